"""What `omar sessions` shows: the sessions kept on this machine and their messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from omar_cli.errors import NotFoundError

if TYPE_CHECKING:
    from omar_cli.store import Message, Session, SessionStore


@dataclass(frozen=True)
class SessionSummary:
    id: str
    created_at: datetime
    updated_at: datetime
    messages: int
    pending: int
    first_question: str | None


@dataclass(frozen=True)
class SessionDetail:
    session: Session
    messages: tuple[Message, ...]


def list_sessions(store: SessionStore, limit: int | None) -> list[SessionSummary]:
    """Newest activity first, each with the question it started with."""
    summaries = []
    for session in store.list_sessions(limit=limit):
        first = _first_message(store, session) if session.message_count else None
        summaries.append(
            SessionSummary(
                id=session.id,
                created_at=session.created_at,
                updated_at=session.updated_at,
                messages=session.message_count,
                pending=session.pending_count,
                first_question=first.text if first is not None else None,
            )
        )
    return summaries


def _first_message(store: SessionStore, session: Session) -> Message | None:
    # The first chunk alone holds it; reading every chunk of every session listed is waste.
    try:
        return store.get_message(f"{session.id}.1")
    except NotFoundError:  # seq 1 moved aside with a damaged chunk: look further
        return next(iter(store.messages(session.id)), None)


def session_detail(store: SessionStore, session_id: str) -> SessionDetail:
    return SessionDetail(store.get_session(session_id), tuple(store.messages(session_id)))
