"""`omar sessions [ID]`: the conversations kept on this machine, and what was said."""

from __future__ import annotations

from typing import Annotated

import typer

from omar_cli.cli.context import JsonOption, state
from omar_cli.cli.output import local_time
from omar_cli.i18n import _, ngettext
from omar_cli.words import word


def register(app: typer.Typer) -> None:
    app.command("sessions")(sessions)


def sessions(
    ctx: typer.Context,
    session_id: Annotated[
        str | None, typer.Argument(help="Show this session's messages instead of the list.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Sessions to list.")] = 20,
    json_out: JsonOption = False,
) -> None:
    """List recent sessions, or show one with its questions and answers (synced ones too).

    Example: omar sessions 20261125-123501-3f9a
    """
    from omar_cli.sessions import list_sessions, session_detail
    from omar_cli.store import DamagedSession

    st = state(ctx, json_mode=json_out)
    out = st.output
    store = st.svc.store
    if session_id is None:
        damaged: list[DamagedSession] = []
        found = list_sessions(store, limit, damaged)
        for problem in damaged:  # from the same read: the store is read once
            out.warn(problem.problem)
        if json_out:
            out.emit_json({"sessions": found})
            return
        if not found:
            out.note(_("no sessions yet; ask something with omar ask"))
        for s in found:
            question = _printable(" ".join((s.first_question or "").split())[:60])
            count = ngettext("{n} message", "{n} messages", s.messages).format(n=s.messages)
            if s.pending:
                count += ", " + ngettext("{n} pending", "{n} pending", s.pending).format(
                    n=s.pending
                )
            out.out(out.fold(f"{s.id}  {local_time(s.updated_at)}  {count}  {question}"))
        return
    detail = session_detail(store, session_id)
    for unreadable in detail.damaged:
        out.warn(unreadable.problem)
    if json_out:
        out.emit_json(detail)
        return
    from omar_cli.transcription_engines import engine_label

    for m in detail.messages:
        words = [word(m.status), m.mode and word(m.mode), engine_label(m.meta) or m.model]
        extra = ", ".join(dict.fromkeys(filter(None, words)))
        when = local_time(m.created_at, seconds=True)
        out.out(f"--- {m.id}  {word(m.role)}  ({_printable(extra)})  {when}")
        out.out(_printable(m.text.rstrip()) + "\n")


def _printable(text: str) -> str:
    """Stored text as it may reach a terminal: control bytes shown as escapes, never sent.

    A stored answer is data from a server: an ESC sequence in it could retitle the window
    or hide lines, and a NUL cuts some pagers short.
    """
    return "".join(ch if ch in "\n\t" or ch.isprintable() else ascii(ch)[1:-1] for ch in text)
