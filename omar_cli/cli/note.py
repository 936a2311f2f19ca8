"""`omar note TEXT`: keep what was learned at a machine, for the supervisor to review."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from omar_cli.cli.context import JsonOption, state
from omar_cli.cli.profile_option import ProfileOption, use_profile
from omar_cli.cli.render import render_result
from omar_cli.errors import UsageError
from omar_cli.i18n import _

if TYPE_CHECKING:
    from omar_cli.cli.output import Output
    from omar_cli.results import Problem
    from omar_cli.store import Message, SessionStore


def register(app: typer.Typer) -> None:
    app.command("note")(note)


@dataclass(frozen=True)
class NoteResult:
    note: Message
    queued: bool  # waiting for `omar sync` to be structured
    error: Problem | None = None  # why the model could not structure it now

    def to_dict(self) -> dict[str, Any]:
        return {
            "note": self.note,
            "structure": self.note.meta.get("structure"),
            "queued": self.queued,
            "error": self.error.to_dict() if self.error is not None else None,
        }


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
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not call the model now: omar sync structures it.")
    ] = False,
    queue: Annotated[bool, typer.Option("--queue", help="Same as --offline.")] = False,
    profile: ProfileOption = None,
    json_out: JsonOption = False,
) -> None:
    """Keep a field note (pending review): what was found at a machine and what fixed it.

    The note is stored first; then the model structures it (codes, parameters, symptom,
    action, machine), or omar sync does when there is no network.

    Example: omar note "en la bomba P-3 el F0002 se resolvió alargando 2203 a 8 s"
    """
    from omar_cli.field_notes import add_note
    from omar_cli.note_structure import structure_note

    st = state(ctx, json_mode=json_out)
    use_profile(st, profile)
    store = st.svc.store
    text, source = _text(store, list(words or []), from_item)
    chat = None if offline or queue else st.svc.chat()
    index = st.svc.codes
    message = add_note(
        store, text, idle_minutes=st.svc.settings.session_idle_minutes, index=index,
        session_id=session, from_item=source, hold=chat is not None,
    )  # fmt: skip
    error = None
    if chat is not None:
        done = structure_note(store, chat, index, message, model=st.svc.settings.model)
        message, error = done.note, done.error
    from omar_cli.results import problem_of

    result = NoteResult(message, queued=message.status == "pending", error=problem_of(error))
    render_result(st.output, result, problem=result.error, text=lambda: _show(st.output, result))


def _text(store: SessionStore, given: list[str], from_item: str | None) -> tuple[str, str | None]:
    from omar_cli.field_notes import note_text_from

    if from_item is not None:
        if given:
            raise UsageError(_("give the note's text or --from, not both"))
        return note_text_from(store, from_item)
    if given == ["-"]:
        return sys.stdin.read(), None
    if given:
        return " ".join(given), None
    raise UsageError(_("write the note, or - to read it from stdin"))


def _show(out: Output, result: NoteResult) -> None:
    from omar_cli.note_structure import structure_fields

    m = result.note
    if result.queued:
        line = _("{id}  note kept, pending review; omar sync will structure it")
    else:
        line = _("{id}  note kept, pending review")
    out.out(line.format(id=m.id))
    for label, value in structure_fields(m):
        out.out(f"  {label}: {value}")
