"""Unanswerable-question check, run by hand:
python bench/eval_unanswerable.py [QUESTIONS.jsonl] [--omar CMD] [--good FILE ...]
(QUESTIONS defaults to tests/data/questions-unanswerable.jsonl)

Runs `omar search --json` on every question the knowledge cannot answer and prints how many
return no hits, plus the distribution of the top hit's score (and of its `match` field when
hits carry one). With --good FILE it prints the same top-score distribution for answerable
questions, so a "not in the knowledge" threshold can be read off both lists side by side.
Only numbers are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "tests" / "data" / "questions-unanswerable.jsonl"


def search_hits(omar: list[str], question: str) -> list[dict[str, object]]:
    proc = subprocess.run(
        [*omar, "search", "--json", question], capture_output=True, text=True, timeout=60
    )
    if proc.returncode != 0:
        raise RuntimeError(f"omar search exited {proc.returncode}: {proc.stderr.strip()[:200]}")
    doc = json.loads(proc.stdout)
    # accept a bare object or an envelope that nests the payload under "data"
    payload = doc.get("data", doc) if isinstance(doc, dict) else {}
    hits = payload.get("hits", []) if isinstance(payload, dict) else []
    return [h for h in hits if isinstance(h, dict)]


def top_score(hits: list[dict[str, object]]) -> float | None:
    if not hits:
        return None
    value = hits[0].get("score")
    return float(value) if isinstance(value, int | float) else None


def counts(matches: Counter[str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(matches.items()))


def describe(name: str, scores: list[float]) -> None:
    if not scores:
        print(f"{name}: no scores")
        return
    deciles = statistics.quantiles(scores, n=10) if len(scores) >= 2 else [scores[0]] * 9
    print(
        f"{name}: n={len(scores)} min={min(scores):.3f} p10={deciles[0]:.3f} "
        f"median={statistics.median(scores):.3f} p90={deciles[-1]:.3f} max={max(scores):.3f}"
    )
    print(f"  sorted: {' '.join(f'{s:.2f}' for s in sorted(scores))}")


def run_file(
    omar: list[str], path: Path, verbose: bool
) -> tuple[int, int, list[float], Counter[str]]:
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    empty = 0
    scores: list[float] = []
    matches: Counter[str] = Counter()
    for row in rows:
        hits = search_hits(omar, row["q"])
        score = top_score(hits)
        if not hits:
            empty += 1
        elif score is not None:
            scores.append(score)
        if hits and "match" in hits[0]:
            matches[str(hits[0]["match"])] += 1
        if verbose:
            top = f"{hits[0].get('id')} {score}" if hits else "-"
            print(f"  {row['id']} top={top} n={len(hits)} :: {row['q'][:70]}")
    return len(rows), empty, scores, matches


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", nargs="?", default=str(DEFAULT))
    ap.add_argument("--omar", default="omar")
    ap.add_argument("--good", action="append", default=[], help="answerable question file(s)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    omar = shlex.split(args.omar)

    n, empty, scores, matches = run_file(omar, Path(args.questions), args.verbose)
    print(f"unanswerable: no hits {empty}/{n} = {empty / n:.2f}")
    describe("unanswerable top score", scores)
    if matches:
        print(
            "unanswerable top match: " + ", ".join(f"{k}={v}" for k, v in sorted(matches.items()))
        )
    for good in args.good:
        gn, gempty, gscores, gmatches = run_file(omar, Path(good), args.verbose)
        print(f"answerable {Path(good).name}: no hits {gempty}/{gn}")
        describe(f"answerable top score ({Path(good).name})", gscores)
        if gmatches:
            print(
                "answerable top match: "
                + ", ".join(f"{k}={v}" for k, v in sorted(gmatches.items()))
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
