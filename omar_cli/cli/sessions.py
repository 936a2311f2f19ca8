"""`omar sessions [ID]`: the conversations kept on this machine, and what was said."""

from __future__ import annotations

from typing import Annotated

import typer

from omar_cli.cli.context import JsonOption, state


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
            out.note("no sessions yet; ask something with omar ask")
        for s in found:
            question = _printable(" ".join((s.first_question or "").split())[:60])
            pending = f", {s.pending} pending" if s.pending else ""
            when = s.updated_at.strftime("%Y-%m-%d %H:%M")
            out.out(f"{s.id}  {when}  {s.messages} msgs{pending}  {question}")
        return
    detail = session_detail(store, session_id)
    for unreadable in detail.damaged:
        out.warn(unreadable.problem)
    if json_out:
        out.emit_json(detail)
        return
    for m in detail.messages:
        extra = ", ".join(dict.fromkeys(filter(None, [m.status, m.mode, m.model])))
        out.out(f"--- {m.id}  {m.role}  ({_printable(extra)})  {m.created_at:%Y-%m-%d %H:%M:%S}")
        out.out(_printable(m.text.rstrip()) + "\n")


def _printable(text: str) -> str:
    """Stored text as it may reach a terminal: control bytes shown as escapes, never sent.

    A stored answer is data from a server: an ESC sequence in it could retitle the window
    or hide lines, and a NUL cuts some pagers short.
    """
    return "".join(ch if ch in "\n\t" or ch.isprintable() else ascii(ch)[1:-1] for ch in text)
