"""Field notes: what a technician learned at a machine, kept for review like an answer.

``omar note "en la bomba P-3 el F0002 se resolvió alargando 2203 a 8 s"`` stores the note as
a message of kind "note" in the current session, pending review, so the codes it names are
found by ``omar review --code`` and an approved note joins the review exports. The text is
kept as written; structuring it (codes, parameters, symptom, action, machine) with the
model is not done yet.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from omar_cli.errors import InputError
from omar_cli.i18n import _

if TYPE_CHECKING:
    from omar_cli.store import Message, SessionStore

NOTE = "note"
#: a note is longer than a question, but it is still one finding, not a document
MAX_NOTE_CHARS = 4000


def note_text_from(store: SessionStore, item_id: str) -> tuple[str, str]:
    """The text of a transcript (its correction when it has one) and its full id."""
    from omar_cli.review import resolve_item

    message = store.get_message(resolve_item(store, item_id))
    if message.meta.get("kind") != "recording" or message.status != "answered":
        raise InputError(
            _("{id} is not a transcribed recording").format(id=message.id),
            hint=_("give the id of a voice note once omar transcribe has transcribed it"),
        )
    review = message.review
    return (review.corrected_text if review and review.corrected_text else message.text), (
        message.id
    )


def add_note(
    store: SessionStore,
    text: str,
    *,
    idle_minutes: int,
    session_id: str | None = None,
    from_item: str | None = None,
) -> Message:
    """Store a field note pending review, in the given or current session."""
    from omar_cli.store import Review

    clean = text.strip()
    if not clean:
        raise InputError(_("the note is empty"), hint=_("write what was found and what fixed it"))
    if len(clean) > MAX_NOTE_CHARS:
        raise InputError(
            _("the note is longer than {n} characters").format(n=MAX_NOTE_CHARS),
            hint=_("keep one finding per note"),
        )
    if session_id is not None:
        session = store.get_session(session_id)
    else:
        session, _created = store.recent_or_create(timedelta(minutes=idle_minutes))
    meta: dict[str, object] = {"kind": NOTE}
    if from_item is not None:
        meta["from_recording"] = from_item
    return store.add_message(
        session.id, "user", clean, status="answered", mode="offline", review=Review(), meta=meta
    )
