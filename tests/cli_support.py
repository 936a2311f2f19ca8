"""Run `omar` in-process through an injected ``Environment``: type into it, pretend a
terminal, give it a scripted model. For tests where a real process is not the point.

    ran = in_process("knowledge", "remove", doc_id, typed="sí\\n")
    assert ran.returncode == 0 and "quitado" in ran.stdout
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from typer.testing import CliRunner

from omar_cli.cli.app import app
from omar_cli.cli.context import AppState
from omar_cli.environment import Environment
from omar_cli.services import Services


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def in_process(
    *args: str,
    env: dict[str, str] | None = None,
    typed: str | None = None,
    stdout_isatty: bool = False,
    services: Services | None = None,
) -> Ran:
    """``omar ARGS`` in this process, stdout and stderr captured. With ``typed``, stdin is a
    terminal and that text is typed into it; otherwise stdin is an empty pipe. ``env`` is
    set in ``os.environ`` for the run (the interface language is read there too)."""
    out, err = io.StringIO(), io.StringIO()
    environment = Environment.create(
        stdin=typed or "",
        stdin_isatty=typed is not None,
        stdout=out,
        stderr=err,
        stdout_isatty=stdout_isatty,
        stderr_isatty=False,
    )
    state = AppState.for_env(environment, services)
    result = CliRunner().invoke(app, list(args), obj=state, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, out.getvalue(), err.getvalue())
