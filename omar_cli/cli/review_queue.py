"""`omar review queue`: a fast pass over pending items, one key (and Enter) per item.

Keys are read a line at a time from stdin, on a terminal as in a pipe, so the same loop is
driven by tests and by scripts; the first letter of the line is the action.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import TYPE_CHECKING

import typer

from omar_cli.cli.context import state
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

ACTIONS = {"a": "approved", "r": "rejected", "e": "edited", "s": "skipped", "q": "quit"}


@app.command("queue")
def queue(ctx: typer.Context, reviewer: ReviewerOption = None) -> None:
    """Walk through pending items: a approve, r reject, e edit, s skip, q quit.

    Example: omar review queue
    """
    from omar_cli.clock import utc_now
    from omar_cli.review import pending_items, question_of, set_verdict

    st = state(ctx)
    out, store = st.output, st.svc.store
    who = reviewer_name(reviewer)
    done: Counter[str] = Counter()
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
        set_verdict(store, item.id, action, reviewer=who, now=utc_now(), corrected_text=corrected)
    out.out(
        _("{approved} approved, {rejected} rejected, {edited} edited, {skipped} skipped").format(
            approved=done["approved"],
            rejected=done["rejected"],
            edited=done["edited"],
            skipped=done["skipped"],
        )
    )


def _ask_action(out: Output) -> str:
    """The action for one item; end of input is quit."""
    while True:
        out.stderr.write(_("[a]pprove [r]eject [e]dit [s]kip [q]uit: "))
        out.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            out.err("")
            return "quit"
        key = line.strip()[:1].lower()
        if key in ACTIONS:
            return ACTIONS[key]
        out.err(_("press a, r, e, s or q"))
