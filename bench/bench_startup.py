"""Start-up benchmarks, run by hand: python bench/bench_startup.py [--runs 15]

Prints, measured in the same run and interleaved so machine noise hits both sides alike:
  1. `omar --help` wall time against a minimal Typer app's `--help` (target <= 1.25x);
  2. `omar fault F0001` wall time against the same baseline (target <= 1.6x);
  3. time from process start until `omar ask` reaches a local fake OpenAI server
     (target < 0.6 s).
Both sides run with the same interpreter through a console-script-like launcher, so only
import work differs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

MINIMAL_APP = """
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "x") -> None:
    \"\"\"Say hello.\"\"\"
    print(name)
@app.command()
def bye() -> None:
    \"\"\"Say bye.\"\"\"
app()
"""
OMAR = "from omar_cli.cli.app import main; main()"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed ({proc.returncode}): {proc.stderr[-400:]}")
    return elapsed


def compare(label: str, omar_args: list[str], runs: int, env: dict[str, str]) -> float:
    base_cmd = [sys.executable, "-c", MINIMAL_APP, "--help"]
    omar_cmd = [sys.executable, "-c", OMAR, *omar_args]
    timed(base_cmd, env), timed(omar_cmd, env)  # warm the OS caches and .pyc files
    base, omar = [], []
    for _ in range(runs):
        base.append(timed(base_cmd, env))
        omar.append(timed(omar_cmd, env))
    b, o = statistics.median(base), statistics.median(omar)
    print(
        f"{label:<22} omar {o * 1000:7.1f} ms   minimal typer --help {b * 1000:7.1f} ms   "
        f"ratio {o / b:4.2f}x"
    )
    return o / b


def time_to_request(runs: int, env: dict[str, str]) -> float:
    from fake_openai import FakeOpenAIServer

    samples = []
    with FakeOpenAIServer() as server:
        run_env = {
            **env,
            "OPENAI_API_KEY": "sk-bench-not-a-real-key",
            "OPENAI_BASE_URL": server.base_url,
        }
        for i in range(runs + 1):
            server.enqueue_answer("Revise la rampa [2202].")
            seen = len(server.requests)
            start = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-c", OMAR, "ask", "--new", "F0001 al arrancar"],
                env=run_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            while len(server.requests) == seen and proc.poll() is None:
                time.sleep(0.0005)
            arrived = time.perf_counter() - start
            proc.wait(timeout=30)
            if len(server.requests) == seen:
                raise SystemExit(f"omar ask never reached the server: {proc.stderr.read()!r}")
            if i:  # the first run builds the search index cache
                samples.append(arrived)
    t = statistics.median(samples)
    print(
        f"{'ask: start -> request':<22} median {t * 1000:7.1f} ms  "
        f"(min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f}; target < 600 ms)"
    )
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "OMAR_"))}
        env.update(
            {
                f"OMAR_{d.upper()}_DIR": str(Path(tmp) / d)
                for d in ("data", "config", "cache", "log")
            }
        )
        print(f"python {sys.version.split()[0]}, {args.runs} runs each, medians")
        compare("omar --help", ["--help"], args.runs, env)
        compare("omar fault F0001", ["fault", "F0001"], args.runs, env)
        time_to_request(args.runs, env)


if __name__ == "__main__":
    main()
