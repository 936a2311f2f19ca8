"""How fast is `omar review` with a big history? Listing, filtering by code, exporting.

    python bench/bench_review.py                      # 5,000 sessions of 10 messages
    python bench/bench_review.py --sessions 5000 --per-session 10 --runs 3

Seeds the store as bench_store.py does (session and chunk files written directly, with the
store's own counters; every tenth message is an approved answer, the rest pending), then
times, best of ``--runs``, each through the real CLI in-process (rendering included):

* ``review`` (list, text), ``review --json``, ``review --code F0002``, ``review --status approved``
* ``review export --format finetune`` (one line per approved answer), ``markdown``, ``json``

Targets (issue 11): list under 1 s, export under 5 s.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_store import seed

from omar_cli.store import SessionStore

GROUNDING = "EXCERPTS:\n[F0001] SOBRECORRIENTE: la corriente de salida superó el límite. " * 8


def _with_grounding(session_id: str, seq: int, doc: dict[str, Any]) -> None:
    """An answer keeps what real ones do: the question it replies to and its grounding."""
    if doc["role"] == "assistant":
        doc["reply_to"] = f"{session_id}.{seq - 1}"
        doc["provenance"] = {"grounding": {"entry_ids": ["F0001"], "text": GROUNDING}}


TARGETS_S = {"list": 1.0, "export": 5.0}


def run_cli(args: list[str]) -> tuple[float, int]:
    """Seconds one `omar ...` run takes in-process, and the bytes it printed."""
    from omar_cli.cli.app import app
    from omar_cli.cli.context import AppState
    from omar_cli.cli.output import Output

    sink, errors = io.StringIO(), io.StringIO()
    state = AppState(output=Output(stdout=sink, stderr=errors))
    begin = time.perf_counter()
    code = app(args, prog_name="omar", obj=state, standalone_mode=False)
    took = time.perf_counter() - begin
    if code or not sink.getvalue():
        raise SystemExit(f"omar {' '.join(args)} failed ({code}): {errors.getvalue()}")
    return took, len(sink.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--per-session", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="omar-bench-review-"))
    try:
        os.environ["OMAR_DATA_DIR"] = str(root)
        os.environ.setdefault("OMAR_CONFIG_DIR", str(root / "config"))
        os.environ.setdefault("OMAR_CACHE_DIR", str(root / "cache"))
        store_root = root / "store"  # where the settings put it under OMAR_DATA_DIR
        seed(store_root, opts.sessions * opts.per_session, opts.per_session, _with_grounding)
        SessionStore(store_root).list_sessions()  # the index is built once, as on a first run
        cases = {
            "list": ["review"],
            "list --json": ["review", "--json"],
            "list --code F0002": ["review", "--code", "F0002"],
            "list --status approved": ["review", "--status", "approved"],
            "export finetune": ["review", "export", "--format", "finetune"],
            "export markdown": ["review", "export", "--format", "markdown"],
            "export json": ["review", "export", "--format", "json"],
        }
        print(f"{opts.sessions} sessions x {opts.per_session} messages, best of {opts.runs}")
        for name, args in cases.items():
            samples = [run_cli(args) for _ in range(opts.runs)]
            best = min(s for s, _ in samples)
            target = TARGETS_S[name.split()[0]]
            verdict = "ok" if best < target else "OVER"
            print(
                f"{name:24} {best:7.3f} s  ({samples[0][1] / 1e6:.1f} MB out)  "
                f"target < {target:.0f} s: {verdict}"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
