"""Prompt tokens `omar ask` sends per profile, counted by llama.cpp's real server.

    python bench/bench_prompt_tokens.py ["question" ...]

Starts llama.cpp (xllamacpp, a dev dependency) with Gemma 3 270M and an 8192-token context,
then asks each question through profiles that declare different context windows (2048, 4096
and none, the full request a cloud profile gets) and prints the prompt tokens the server
counted, the answer bound (max_tokens) and the seconds to the stored answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

QUESTIONS = ["¿Qué significa el fallo F0001?", "El motor se calienta a 15 Hz, ¿qué reviso?"]
WINDOWS = (2048, 4096, None)


def main() -> None:
    from llama_server import llama_server

    questions = sys.argv[1:] or QUESTIONS
    with tempfile.TemporaryDirectory() as tmp, llama_server(Path(tmp), context=8192) as url:
        print("window  prompt_tokens  max_tokens  seconds  question")
        for window in WINDOWS:
            for question in questions:
                row = ask(Path(tmp), url, window, question)
                print(
                    f"{window or 'none':>6}  {row[0]:>13}  {row[1]:>10}  {row[2]:>7.1f}  {question}"
                )


def ask(tmp: Path, url: str, window: int | None, question: str) -> tuple[int, int, float]:
    home = Path(tempfile.mkdtemp(dir=tmp))
    (home / "config").mkdir()
    size = f"context_window = {window}\n" if window else ""
    (home / "config" / "config.toml").write_text(
        f'[profiles.bench]\nbase_url = "{url}"\nmodel = "gemma3-270m"\ntimeout = 600\n{size}'
    )
    env = {
        **os.environ,
        **{f"OMAR_{d.upper()}_DIR": str(home / d) for d in ("data", "config", "cache", "log")},
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "omar_cli", "ask", "--new", question, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    doc = json.loads(done.stdout)
    if doc.get("usage") is None:
        raise SystemExit(f"no usage in the answer: {done.stdout[:300]} {done.stderr[-300:]}")
    from omar_cli.prompt import fit_request

    bound = fit_request(window, context_chars=6000, question=question, history=[]).max_tokens
    return doc["usage"]["prompt_tokens"], bound, seconds


if __name__ == "__main__":
    main()
