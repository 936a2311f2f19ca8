"""`omar note TEXT`: keep what was learned at a machine, for the supervisor to review."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from omar_cli.cli.context import JsonOption, state
from omar_cli.errors import UsageError
from omar_cli.i18n import _


def register(app: typer.Typer) -> None:
    app.command("note")(note)


def note(
    ctx: typer.Context,
    words: Annotated[
        list[str] | None, typer.Argument(help="The note, or - to read it from stdin.")
    ] = None,
    from_item: Annotated[
        str | None, typer.Option("--from", help="Take the text of this transcribed voice note.")
    ] = None,
    session: Annotated[
        str | None, typer.Option("--session", help="Add it to this session.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Keep a field note (pending review): what was found at a machine and what fixed it.

    Example: omar note "en la bomba P-3 el F0002 se resolvió alargando 2203 a 8 s"
    """
    from omar_cli.field_notes import add_note, note_text_from

    st = state(ctx, json_mode=json_out)
    store = st.svc.store
    given = list(words or [])
    source = None
    if from_item is not None:
        if given:
            raise UsageError(_("give the note's text or --from, not both"))
        text, source = note_text_from(store, from_item)
    elif given == ["-"]:
        text = sys.stdin.read()
    elif given:
        text = " ".join(given)
    else:
        raise UsageError(_("write the note, or - to read it from stdin"))
    idle = st.svc.settings.session_idle_minutes
    message = add_note(store, text, idle_minutes=idle, session_id=session, from_item=source)
    if json_out:
        st.output.emit_json({"note": message})
        return
    st.output.out(_("{id}  note kept, pending review").format(id=message.id))
