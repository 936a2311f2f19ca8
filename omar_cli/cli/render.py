"""The one place a result or an error reaches the user and the exit code is chosen.

A command hands its result (with the ``Problem`` it carries, if any) to ``render_result``;
the error boundary hands an error with no result to ``render_error``. Both write the same
`--json` ``error`` object and the same ``omar: error:`` lines, and end the run with the
problem's exit code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import typer

from omar_cli.results import Problem

if TYPE_CHECKING:
    from omar_cli.cli.output import Output
    from omar_cli.errors import OmarError


def exit_code(problem: Problem | None) -> int:
    return 0 if problem is None else problem.code


def render_result(
    out: Output,
    result: Any,
    *,
    problem: Problem | None,
    text: Callable[[], None],
    warning: Problem | None = None,
    notes: Sequence[str] = (),
    after: Sequence[str] = (),
    exit: bool = True,
) -> None:
    """``result`` as one JSON object or, through ``text``, as text; then on stderr the
    ``notes``, the problem, the ``warning`` (a failure that left the result standing, e.g.
    an answer the store could not keep) and the notes ``after`` them. With ``exit`` (the
    default), the problem, else the warning, ends the command with its exit code; the
    interactive chat goes on instead."""
    if out.json_mode:
        out.emit_json(result, ok=problem is None and warning is None)
    else:
        text()
    for note in notes:
        out.note(note)
    if problem is not None:
        out.error_lines(problem)
    if warning is not None:
        out.warn_error(warning)
    for note in after:
        out.note(note)
    failure = problem or warning
    if exit and failure is not None:
        raise typer.Exit(exit_code(failure))


def render_error(out: Output, error: OmarError | Problem) -> None:
    """An error with no result: the JSON error envelope when asked for, the lines always."""
    problem = error if isinstance(error, Problem) else Problem.of(error)
    if out.json_mode:
        out.emit_json({"error": problem.to_dict()}, ok=False)
    out.error_lines(problem)
