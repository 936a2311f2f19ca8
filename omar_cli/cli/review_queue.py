"""`omar review queue`: a fast pass over pending items, one key per item.

On a terminal (POSIX) one keypress is the action, no Enter needed; from a pipe or a file,
keys are read a line at a time and the first letter of each line is the action, so the same
loop is driven by scripts and tests.
"""

from __future__ import annotations

from collections import Counter
from typing import IO, TYPE_CHECKING

import typer

from omar_cli.cli.context import AppState, state
from omar_cli.cli.review import (
    ReviewerOption,
    _current_text,
    app,
    edit_in_editor,
    render_item,
    reviewer_name,
)
from omar_cli.i18n import _

if TYPE_CHECKING:
    from omar_cli.cli.output import Output
    from omar_cli.environment import Environment

ACTIONS = {"a": "approved", "r": "rejected", "e": "edited", "s": "skipped", "q": "quit"}


@app.command("queue")
def queue(ctx: typer.Context, reviewer: ReviewerOption = None) -> None:
    """Walk through pending items: a approve, r reject, e edit, s skip, q quit.

    Example: omar review queue
    """
    from omar_cli.cli.review_field import keep_in_step

    st = state(ctx)
    out = st.output
    who = reviewer_name(reviewer)
    done: Counter[str] = Counter()
    touched: list[str] = []
    try:
        _walk(st, who, done, touched)
    finally:  # verdicts given before an editor refused or Ctrl-C count too
        keep_in_step(st, touched)
    out.out(
        _("{approved} approved, {rejected} rejected, {edited} edited, {skipped} skipped").format(
            approved=done["approved"],
            rejected=done["rejected"],
            edited=done["edited"],
            skipped=done["skipped"],
        )
    )


def _walk(st: AppState, who: str, done: Counter[str], touched: list[str]) -> None:
    from omar_cli.review import pending_items, question_of, set_verdict

    out, store = st.output, st.svc.store
    for item in pending_items(store):
        question = question_of(store, item)
        if question is not None:
            render_item(out, question)
        render_item(out, item)
        action = _ask_action(out)
        if action == "quit":
            break
        done[action] += 1
        if action == "skipped":
            continue
        corrected = edit_in_editor(_current_text(item)) if action == "edited" else None
        now = st.svc.clock()
        set_verdict(store, item.id, action, reviewer=who, now=now, corrected_text=corrected)
        touched.append(item.session_id)


def _ask_action(out: Output) -> str:
    """The action for one item; end of input is quit."""
    while True:
        out.stderr.write(_("[a]pprove [r]eject [e]dit [s]kip [q]uit: "))
        out.stderr.flush()
        key = _read_key(out.env)
        if key is None:
            out.err("")
            return "quit"
        if key in ACTIONS:
            out.err(key)
            return ACTIONS[key]
        out.err(_("press a, r, e, s or q"))


def _read_key(env: Environment) -> str | None:
    """One key, lower case; None at end of input. Read from the run's Environment, so a
    test drives the queue by typing lines into it."""
    if env.stdin_isatty:
        key = _keypress(env.stdin)
        if key is not None:
            return None if key in ("\x04", "") else key.lower()
    line = env.stdin.readline()
    return line.strip()[:1].lower() if line else None


def _keypress(stdin: IO[str]) -> str | None:
    """A single keypress from the terminal (cbreak mode), or None where that is unavailable."""
    try:
        import termios
        import tty
    except ImportError:  # Windows: line input
        return None
    try:
        fd = stdin.fileno()
        saved = termios.tcgetattr(fd)
    except (termios.error, OSError, ValueError):  # not a real terminal (a test's stream)
        return None
    try:
        tty.setcbreak(fd, termios.TCSANOW)  # not TCSAFLUSH: keys typed ahead count
        while True:
            char = stdin.read(1)
            if not char or not char.isspace():  # Enter out of habit is not an answer
                return char
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
