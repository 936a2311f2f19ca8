"""The yes/no question, asked on stderr, answered in either language."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from omar_cli.i18n import _, parse_yes_no

if TYPE_CHECKING:
    from omar_cli.cli.output import Output


def confirm(out: Output, question: str, *, read: Callable[[], str] | None = None) -> bool:
    """Ask ``question`` until the answer is yes (s, sí, si, y, yes) or no (n, no, or just
    Enter: the safe default). End of input is a no."""
    reader = read or out.env.read_line
    while True:
        out.stderr.write(_("{question} [s/N] ").format(question=question))
        out.stderr.flush()
        try:
            answer = reader()
        except EOFError:
            out.err("")
            return False
        if not answer.strip():
            return False
        verdict = parse_yes_no(answer)
        if verdict is not None:
            return verdict
        out.err(_("answer s (sí/yes) or n (no)"))
