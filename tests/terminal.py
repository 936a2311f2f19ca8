"""Run the real `omar` on a pseudo-terminal of a given size, as a technician's laptop would."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from dataclasses import dataclass


@dataclass(frozen=True)
class TerminalRun:
    returncode: int
    screen: str  # what stdout wrote to the terminal (\r\n as \n, colours stripped by NO_COLOR)
    stderr: str


def run_on_terminal(
    *args: str,
    columns: int = 80,
    rows: int = 24,
    env: dict[str, str] | None = None,
    typed: str | None = None,
) -> TerminalRun:
    """``omar ARGS`` with stdout on a pseudo-terminal ``columns`` wide; stderr piped.

    With ``typed``, stdin is the terminal too and that text is typed into it."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    full_env = {**os.environ, **(env or {}), "NO_COLOR": "1", "TERM": "xterm"}
    full_env.pop("COLUMNS", None)
    full_env.pop("LINES", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "omar_cli", *args],
        stdin=slave if typed is not None else subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=full_env,
        close_fds=True,
    )
    os.close(slave)
    if typed is not None:
        os.write(master, typed.encode("utf-8"))
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            proc.kill()
            raise TimeoutError(f"omar {' '.join(args)} did not finish")
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    proc.wait(timeout=30)
    screen = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return TerminalRun(proc.returncode, screen, stderr)
