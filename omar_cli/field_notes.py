"""Field notes: what a technician learned at a machine, kept for review like an answer.

``omar note "en la bomba P-3 el F0002 se resolvió alargando 2203 a 8 s"`` stores the note as
a message of kind "note" in the current session, pending review, so the codes it names are
found by ``omar review --code`` and an approved note joins the review exports and field
knowledge. The text is kept as written, with the codes and parameters a local parse finds;
it then waits in the queue to be structured by the model (omar_cli/note_structure.py), at
once when the endpoint answers, else at the next `omar sync`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from omar_cli.errors import InputError
from omar_cli.i18n import _

if TYPE_CHECKING:
    from omar_cli.knowledge.index import KnowledgeIndex
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
    index: KnowledgeIndex,
    session_id: str | None = None,
    from_item: str | None = None,
    hold: bool = False,
) -> Message:
    """Store a field note pending review, in the given or current session, queued for
    structuring. With ``hold`` this process keeps it (it structures it at once); otherwise
    any `omar sync` may take it."""
    from omar_cli.note_structure import local_structure
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
    local = local_structure(index, clean)
    structure = {**local, "status": "queued", "lang": index.detect_lang(clean)}
    meta: dict[str, object] = {"kind": NOTE, "structure": structure}
    if from_item is not None:
        meta["from_recording"] = from_item
    # the codes as sources: the session index lists them for `omar review --code`
    named = (*local["codes"], *(p["id"] for p in local["parameters"]))
    lease = {} if hold else {"lease": None}
    return store.add_message(
        session.id, "user", clean, status="pending", mode="online", review=Review(),
        meta=meta, sources=named, **lease,
    )  # fmt: skip
