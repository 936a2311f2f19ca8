"""`omar review`: what technicians asked and what OMAR answered, reviewed offline.

Domain only: the list of sessions with their review counters (from the store's month index,
so listing thousands of sessions opens no message file), a whole session for `review show`,
short id prefixes resolved like git's, and the reviewer's verdicts (approve, reject, edit).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from omar_cli.errors import InputError, NotFoundError, UsageError
from omar_cli.i18n import _

if TYPE_CHECKING:
    from omar_cli.store import DamagedSession, Message, Session, SessionStore, SessionSummary

#: the review states a --status filter accepts; "withdrawn": approved, then taken out of
#: field knowledge (omar review withdraw)
STATES = ("pending", "approved", "rejected", "edited", "withdrawn")


@dataclass(frozen=True)
class ReviewRow:
    """One session as `omar review list` shows it."""

    id: str
    created_at: datetime
    updated_at: datetime
    duration_s: int  # first to last activity
    title: str | None
    first_question: str | None
    codes: tuple[str, ...]
    photos: int
    recordings: int
    pending: int
    approved: int
    rejected: int
    edited: int
    withdrawn: int = 0


@dataclass(frozen=True)
class SessionReview:
    """A whole session for `omar review show`."""

    session: Session
    messages: tuple[Message, ...]
    damaged: tuple[DamagedSession, ...] = ()


def _row(s: SessionSummary) -> ReviewRow:
    return ReviewRow(
        id=s.id,
        created_at=s.created_at,
        updated_at=s.updated_at,
        duration_s=int((s.updated_at - s.created_at).total_seconds()),
        title=s.title,
        first_question=s.first_question,
        codes=s.codes,
        photos=int(s.media.get("photo", 0)),
        recordings=int(s.media.get("recording", 0)),
        pending=int(s.reviews.get("pending", 0)),
        approved=int(s.reviews.get("approved", 0)),
        rejected=int(s.reviews.get("rejected", 0)),
        edited=int(s.reviews.get("edited", 0)),
        withdrawn=int(s.reviews.get("withdrawn", 0)),
    )


def check_status(status: str | None) -> str | None:
    if status is not None and status not in STATES:
        raise UsageError(
            _("unknown review status {status!r}").format(status=status),
            hint=_("use one of: {states}").format(states=", ".join(STATES)),
        )
    return status


def list_reviews(
    store: SessionStore,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    code: str | None = None,
    text: str | None = None,
    status: str | None = None,
    damaged: list[DamagedSession] | None = None,
) -> list[ReviewRow]:
    """Sessions newest first; every filter is from the index except ``text``, which reads
    the messages of the sessions the other filters kept."""
    found = store.summaries(
        review=check_status(status), code=code, since=since, until=until, damaged=damaged
    )
    if text:
        needle = text.casefold()
        found = [s for s in found if _mentions(store, s, needle)]
    return [_row(s) for s in found]


def _mentions(store: SessionStore, s: SessionSummary, needle: str) -> bool:
    if needle in (s.title or "").casefold() or needle in (s.first_question or "").casefold():
        return True
    return any(needle in _shown_text(m).casefold() for m in store.messages(s.id, damaged=[]))


def _shown_text(m: Message) -> str:
    corrected = m.review.corrected_text if m.review is not None else None
    return f"{m.text}\n{corrected or ''}"


def resolve_session(store: SessionStore, ref: str) -> str:
    """A session id from an id or a unique prefix of one (like git's short hashes)."""
    ref = ref.strip()
    if not ref:
        raise UsageError(_("give a session id or the start of one"))
    matches = [s.id for s in store.summaries() if s.id.startswith(ref)]
    if len(matches) == 1:
        return str(matches[0])
    if not matches:
        raise NotFoundError(
            _("no session starts with {ref!r}").format(ref=ref),
            hint=_("omar review lists the sessions"),
        )
    raise UsageError(
        _("{ref!r} matches {count} sessions").format(ref=ref, count=len(matches)),
        hint=_("give more of the id: {some}").format(some=", ".join(sorted(matches)[:5])),
    )


def resolve_item(store: SessionStore, ref: str) -> str:
    """A message id from ``SESSION.SEQ`` where SESSION may be a unique prefix."""
    session_ref, dot, seq = ref.strip().rpartition(".")
    if not dot or not seq.isdigit():
        raise UsageError(
            _("{ref!r} is not an item id").format(ref=ref),
            hint=_("item ids are a session id (or its start), a dot and a number: 20261125-12.2"),
        )
    return f"{resolve_session(store, session_ref)}.{int(seq)}"


def show_session(store: SessionStore, ref: str) -> SessionReview:
    session_id = resolve_session(store, ref)
    damaged: list[DamagedSession] = []
    messages = store.messages(session_id, damaged=damaged)
    return SessionReview(store.get_session(session_id), tuple(messages), tuple(damaged))


def reviewable(store: SessionStore, ref: str) -> Message:
    """The answer, photo analysis, transcript or note an item id names."""
    message = store.get_message(resolve_item(store, ref))
    if message.review is None:
        raise InputError(
            _("{id} is a question, not an answer or transcript to review").format(id=message.id),
            hint=_("review the answer that follows it"),
        )
    return message


def set_verdict(
    store: SessionStore,
    ref: str,
    state: str,
    *,
    reviewer: str,
    now: datetime,
    note: str | None = None,
    corrected_text: str | None = None,
) -> Message:
    """Approve, reject or correct one item; the original text is never changed."""
    from omar_cli.store import Review, ReviewState

    message = reviewable(store, ref)
    if state == "edited" and (corrected_text is None or not corrected_text.strip()):
        raise InputError(_("the corrected text is empty"), hint=_("nothing was changed"))
    old = message.review or Review()
    review = replace(
        old,
        state=ReviewState(state),
        note=note if note is not None else old.note,
        reviewer=reviewer,
        at=now,
        corrected_text=corrected_text if state == "edited" else old.corrected_text,
        withdrawn_by=None,  # a new verdict stands on its own
        withdrawn_at=None,
    )
    return store.update_message(message.id, review=review)


def withdraw(store: SessionStore, ref: str, *, reviewer: str, now: datetime) -> Message:
    """Take an approved (or corrected) item out of field knowledge; nothing is deleted and
    its verdict stays. Approving or correcting it again brings it back."""
    message = reviewable(store, ref)
    review = message.review
    assert review is not None
    if review.state not in ("approved", "edited"):
        raise InputError(
            _("{id} is {state}: only an approved item can be withdrawn").format(
                id=message.id, state=review.state
            ),
            hint=_("rejected and pending items are never field knowledge"),
        )
    if review.withdrawn_at is not None:
        raise InputError(
            _("{id} was already withdrawn").format(id=message.id),
            hint=_("approve it again to bring it back"),
        )
    withdrawn = replace(review, withdrawn_by=reviewer, withdrawn_at=now)
    return store.update_message(message.id, review=withdrawn)


def pending_items(store: SessionStore) -> Iterator[Message]:
    """Items waiting for review, oldest session first; only those sessions are opened."""
    sessions = store.summaries(review="pending")
    for s in reversed(sessions):
        for m in store.messages(s.id, damaged=[]):
            if m.review is not None and m.review.state == "pending":
                yield m


def question_of(store: SessionStore, item: Message) -> Message | None:
    """The question an answer replies to, when it is stored."""
    if item.reply_to is None:
        return None
    try:
        return store.get_message(item.reply_to)
    except NotFoundError:
        return None


def parse_when(text: str, now: datetime, *, end: bool = False) -> datetime:
    """A date (2026-11-25), a date and time (ISO 8601, local when no zone is given) or an
    age counted back from ``now`` (90d, 12h, 30m). With ``end``, a bare date means the end
    of that day, so ``--until 2026-11-25`` includes the 25th."""
    from datetime import timedelta

    clean = text.strip()
    units = {"d": "days", "h": "hours", "m": "minutes", "w": "weeks"}
    if clean[:-1].isdigit() and clean[-1:] in units:
        return now - timedelta(**{units[clean[-1]]: int(clean[:-1])})
    try:
        moment = datetime.fromisoformat(clean)
    except ValueError:
        raise UsageError(
            _("cannot read {text!r} as a date").format(text=text),
            hint=_("use 2026-11-25, 2026-11-25T14:30 or an age such as 7d, 12h"),
        ) from None
    if end and len(clean) == 10:
        moment += timedelta(days=1, microseconds=-1)
    return moment if moment.tzinfo is not None else moment.astimezone()


@dataclass(frozen=True)
class Removed:
    sessions: tuple[str, ...]
    media: tuple[str, ...]  # sha256 of the photos and recordings no longer referenced


def sessions_to_remove(
    store: SessionStore, refs: list[str], older_than: datetime | None
) -> list[str]:
    """The sessions named (ids or unique prefixes) plus those idle since before ``older_than``."""
    chosen = {resolve_session(store, ref) for ref in refs}
    if older_than is not None:
        chosen |= {s.id for s in store.summaries() if s.updated_at < older_than}
    return sorted(chosen)


def remove_sessions(store: SessionStore, session_ids: list[str]) -> Removed:
    """Delete the sessions, then the media nothing refers to any more."""
    for session_id in session_ids:
        store.delete_session(session_id)
    media = store.prune_media() if session_ids else []
    return Removed(tuple(session_ids), tuple(media))
