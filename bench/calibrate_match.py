"""Calibrate when a question counts as answered at all; run by hand.

    python bench/calibrate_match.py --pos A.jsonl B.jsonl --neg N.jsonl [--unknown 1.0]

For every question it takes the unfiltered top hits and, for each, the share of the
question's weight the entry covers and the weight itself (see omar_cli/knowledge/match.py).
A question is answered when some hit reaches ANSWER_SHARE or ANSWER_WEIGHT. For a grid of
both it prints the recall kept on the positive sets (an expected id in the top 3) and how
many negatives get no hit, so the floor is chosen with data, not by feel.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from omar_cli.knowledge import match as rules  # noqa: E402
from omar_cli.knowledge.index import KnowledgeIndex  # noqa: E402
from omar_cli.knowledge.loader import builtin_dir, load_entries  # noqa: E402

Feature = tuple[str, bool, float, float]  # id, named (or related to a named code), share, weight


def features(index: KnowledgeIndex, query: str) -> list[Feature]:
    plan = index._plan(query)
    hits = index.search(query, lang=index.detect_lang(query), limit=8)
    columns = index._columns([t for w in plan.words for t in w.terms])
    named = {i for group in plan.named for i in group}
    related = {r for i in named for r in index._by_id[i].related}
    found: list[Feature] = []
    for hit in hits:
        row = index._row[hit.id]
        cover = rules.coverage(plan.words, {t: c[row] for t, c in columns.items() if row in c})
        found.append((hit.id, hit.id in named | related, cover.share, cover.weight))
    return found


def answered(found: list[Feature], share: float, weight: float) -> bool:
    return any(named or s >= share or w >= weight for _, named, s, w in found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pos", nargs="+", type=Path, default=[])
    parser.add_argument("--neg", nargs="+", type=Path, default=[])
    parser.add_argument("--unknown", type=float, default=rules.UNKNOWN_SHARE)
    args = parser.parse_args()
    rules.UNKNOWN_SHARE = args.unknown
    rules.ANSWER_SHARE, rules.HIT_SHARE = -1.0, -1.0  # see everything, judge here
    index = KnowledgeIndex.open(load_entries(builtin_dir()), None)
    positives: list[tuple[str, list[str], list[Feature]]] = []
    for path in args.pos:
        for line in path.read_text("utf-8").splitlines():
            row = json.loads(line) if line.strip() else None
            if row and row.get("expect_any"):
                found = features(index, row["q"])
                positives.append((path.name, row["expect_any"], found))
    negatives = [
        features(index, json.loads(line)["q"])
        for path in args.neg
        for line in path.read_text("utf-8").splitlines()
        if line.strip()
    ]
    base = sum(any(f[0] in want for f in found[:3]) for _, want, found in positives)
    print(f"positives {len(positives)} (top-3 without a floor: {base}), negatives {len(negatives)}")
    print("share  weight  recall-kept  negatives-empty")
    for share in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4):
        for weight in (3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 7.0):
            kept = sum(
                answered(found, share, weight) and any(f[0] in want for f in found[:3])
                for _, want, found in positives
            )
            empty = sum(not answered(found, share, weight) for found in negatives)
            print(f"{share:5.2f}  {weight:6.1f}  {kept:4d}/{base}  {empty:4d}/{len(negatives)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
