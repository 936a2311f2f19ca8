"""Retrieval quality in process, counted as the shared scorer counts it; run by hand.

    python bench/eval_retrieval.py FILE.jsonl [FILE.jsonl ...] [--negatives NEG.jsonl] [-v]

A question is answered when an expected id is among the top 3 hits of a search or the
sources of an offline ask (or an expected string is in that answer or those hits), as
../shared/eval/score.py counts it through the installed `omar`, only faster: one process, one
index, a fresh session per question. Negative files list questions nothing in the knowledge
answers; for them it counts how many get no search hit and no ask source.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextmanager
def _assistant() -> Iterator[object]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {f"OMAR_{n.upper()}_DIR": str(Path(tmp) / n) for n in ("data", "config", "cache")}
        env["OMAR_LOG_DIR"] = str(Path(tmp) / "log")
        os.environ.update(env)
        for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OMAR_BASE_URL"):
            os.environ.pop(var, None)
        from omar_cli.services import Services
        from omar_cli.settings import load_settings

        yield Services(load_settings(config_file=False))


def _rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _judge(svc: object, row: dict[str, object]) -> tuple[bool, list[str], list[str]]:
    query = str(row["q"])
    index = svc.knowledge  # type: ignore[attr-defined]
    lang = index.detect_lang(query)
    found = index.search(query, lang=lang, limit=5)[:3]
    asked = svc.assistant.ask(query, new_session=True, offline=True)  # type: ignore[attr-defined]
    search_ids = [h.id for h in found]
    ask_ids = [s.id for s in asked.sources]
    ids = set(search_ids) | set(ask_ids)
    expect_any = [str(e) for e in row.get("expect_any", [])]  # type: ignore[attr-defined]
    expect_text = [str(t).lower() for t in row.get("expect_text", [])]  # type: ignore[attr-defined]
    blob = (asked.answer + " " + " ".join(f"{h.text} {h.title}" for h in found)).lower()
    ok = any(e in ids for e in expect_any) or any(t in blob for t in expect_text)
    return ok, search_ids, ask_ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--negatives", action="append", type=Path, default=[])
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    with _assistant() as svc:
        for path in args.files:
            rows = _rows(path)
            good = 0
            for row in rows:
                ok, search_ids, ask_ids = _judge(svc, row)
                good += ok
                if not ok and args.verbose:
                    want = row.get("expect_any") or row.get("expect_text")
                    print(f"  MISS {row['id']} {row['q']!r} want {want} got {search_ids}")
            print(f"{path.name}: hit@3 {good}/{len(rows)} = {good / max(1, len(rows)):.3f}")
        for path in args.negatives:
            rows = _rows(path)
            empty = 0
            for row in rows:
                _, search_ids, ask_ids = _judge(svc, row)
                empty += not search_ids and not ask_ids
                if (search_ids or ask_ids) and args.verbose:
                    print(f"  ANSWERED {row['q']!r}: {search_ids} / {ask_ids}")
            print(f"{path.name}: nothing found for {empty}/{len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
