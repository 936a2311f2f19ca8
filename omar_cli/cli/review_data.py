"""`omar review import` and `omar review rm`, and the bundle half of `omar review export`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from omar_cli.cli.context import AppState, JsonOption, state
from omar_cli.cli.review import app
from omar_cli.i18n import _

if TYPE_CHECKING:
    from omar_cli.review_export import Range


def write_bundle_file(st: AppState, path: Path, when: Range) -> None:
    from omar_cli.review_bundle import write_bundle

    written = write_bundle(st.svc.store, path, when)
    st.output.note(
        _("{path}: {sessions} sessions, {messages} messages, {media} media files").format(
            path=written.path,
            sessions=written.sessions,
            messages=written.messages,
            media=written.media,
        )
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A bundle from omar review export --bundle.")],
    json_out: JsonOption = False,
) -> None:
    """Merge a bundle from another laptop; importing it again changes nothing.

    Example: omar review import equipo-norte.omar
    """
    from omar_cli.review_bundle import import_bundle

    st = state(ctx, json_mode=json_out)
    done = import_bundle(st.svc.store, file)
    from omar_cli.cli.review_field import rebuild

    rebuild(st)  # approved items from the other laptop are field knowledge here too
    for message_id in done.conflicts:
        st.output.warn(
            _("{id} differs here from the bundle; kept as it is here").format(id=message_id)
        )
    if json_out:
        st.output.emit_json({"imported": done})
        return
    st.output.out(
        _(
            "{added} new sessions, {merged} already here; {messages} messages and "
            "{media} media files added, {reviews} reviews updated"
        ).format(
            added=done.sessions_added,
            merged=done.sessions_merged,
            messages=done.messages_added,
            media=done.media_added,
            reviews=done.reviews_updated,
        )
    )


@app.command("rm")
def rm(
    ctx: typer.Context,
    sessions: Annotated[
        list[str] | None, typer.Argument(help="Session ids (or their start) to delete.")
    ] = None,
    older_than: Annotated[
        str | None,
        typer.Option("--older-than", help="Also every session idle for longer: 90d, 12w."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Delete sessions for good, with the photos and recordings only they used.

    Example: omar review rm --older-than 90d
    """

    from omar_cli.cli.confirm import confirm
    from omar_cli.errors import UsageError
    from omar_cli.review import parse_when, remove_sessions, sessions_to_remove

    st = state(ctx, json_mode=json_out)
    if not sessions and older_than is None:
        raise UsageError(_("name the sessions to delete, or give --older-than"))
    cutoff = parse_when(older_than, st.svc.clock()) if older_than else None
    chosen = sessions_to_remove(st.svc.store, list(sessions or []), cutoff)
    if chosen and not yes:
        if not st.env.stdin_isatty:
            raise UsageError(_("refusing to delete sessions without --yes"), hint=_("add --yes"))
        question = _("Delete {n} sessions ({first} …) for good?").format(
            n=len(chosen), first=chosen[0]
        )
        if not confirm(st.output, question):
            st.output.note(_("nothing deleted"))
            raise typer.Exit(1)
    removed = remove_sessions(st.svc.store, chosen)
    from omar_cli.cli.review_field import keep_in_step

    keep_in_step(st, removed.sessions)  # what was deleted is no field knowledge any more
    if json_out:
        st.output.emit_json({"removed": removed})
        return
    st.output.out(
        _("{sessions} sessions and {media} media files deleted").format(
            sessions=len(removed.sessions), media=len(removed.media)
        )
    )
