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
