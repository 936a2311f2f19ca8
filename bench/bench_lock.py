"""Do many `omar ask` runs at once wait too long for the store's write lock?

    python bench/bench_lock.py                 # 60 processes, as in the torture run
    python bench/bench_lock.py --workers 20 --timeout 10

Each worker process makes the store calls an online `omar ask` makes, in its order: pick
or create the recent session, store the question, store the answer (which closes the
question), then mark the question answered as ``ask`` still does. All start together
after their imports. Reported: how many hit the lock timeout, the slowest whole sequence,
and the slowest single store call, which is what a lock wait adds to an answer.

With ``--cli`` it starts real ``omar ask --offline`` processes instead (imports, knowledge
look-up and all), which is what the torture run did.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKER = textwrap.dedent(
    """
    import json, sys, time
    from datetime import timedelta
    from pathlib import Path
    from omar_cli.errors import StoreError
    from omar_cli.store import SessionStore

    store = SessionStore(Path(sys.argv[1]), lock_timeout=float(sys.argv[2]))
    print("ready", flush=True)
    sys.stdin.readline()
    calls, began, error = [], time.perf_counter(), None

    def timed(call, *args, **kwargs):
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            calls.append((time.perf_counter() - start) * 1000)

    try:
        session, _ = timed(store.recent_or_create, timedelta(minutes=30))
        asked = timed(store.add_message, session.id, "user", "¿F0001?", status="pending")
        timed(store.add_message, session.id, "assistant", "Vea [F0001].",
              status="answered", mode="online", reply_to=asked.id)
        timed(store.update_message, asked.id, status="answered", error=None)
    except StoreError as exc:
        error = exc.message
    total = (time.perf_counter() - began) * 1000
    print(json.dumps({"calls": calls, "total": total, "error": error}), flush=True)
    """
)


def run(workers: int, timeout: float) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "store"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(root), str(timeout)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            for _ in range(workers)
        ]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [json.loads(proc.communicate(timeout=600)[0]) for proc in procs]
    calls = [c for r in results for c in r["calls"]]
    totals = [r["total"] for r in results]
    return {
        "timeouts": sum(1 for r in results if r["error"]),
        "slowest ask (ms)": max(totals),
        "median ask (ms)": statistics.median(totals),
        "slowest call (ms)": max(calls),
    }


def run_cli(workers: int) -> dict[str, float]:
    """Real `omar ask --offline` processes, started together on one fresh data folder."""
    import time

    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for name in ("data", "config", "cache", "log"):
            env[f"OMAR_{name.upper()}_DIR"] = str(Path(folder) / name)
        command = [sys.executable, "-m", "omar_cli", "ask", "--offline"]
        # one ask first, so the knowledge cache is built once, as on a working machine
        subprocess.run([*command, "¿F0001?"], env=env, capture_output=True, check=True)
        began = time.perf_counter()
        procs = [
            subprocess.Popen(
                [*command, f"¿qué es F000{n % 9 + 1}? ({n})"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(workers)
        ]
        errors = [p.communicate(timeout=600)[1] for p in procs]
        wall = (time.perf_counter() - began) * 1000
    failed = [e for p, e in zip(procs, errors, strict=True) if p.returncode != 0]
    return {
        "failed asks": len(failed),
        "lock timeouts": sum(1 for e in failed if "locked" in e),
        "all done (ms)": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=60)
    parser.add_argument("--timeout", type=float, default=10.0, help="lock timeout, seconds")
    parser.add_argument(
        "--cli", action="store_true", help="run real `omar ask --offline` processes instead"
    )
    args = parser.parse_args()
    row = run_cli(args.workers) if args.cli else run(args.workers, args.timeout)
    timeout = "the store's default" if args.cli else f"{args.timeout:g} s"
    print(f"{args.workers} parallel asks, lock timeout {timeout}")
    for key, value in row.items():
        print(f"  {key:<18} {value:>10.1f}")


if __name__ == "__main__":
    main()
