"""What `omar sessions` shows: the sessions kept on this machine and their messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omar_cli.store import DamagedSession, Message, Session, SessionStore


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
    #: message files that could not be read: the messages shown are the rest
    damaged: tuple[DamagedSession, ...] = ()


def list_sessions(
    store: SessionStore, limit: int | None, damaged: list[DamagedSession] | None = None
) -> list[SessionSummary]:
    """Newest activity first, each with the question it started with (from the index).

    ``damaged`` receives the sessions the list leaves out, or in part, and why.
    """
    found = store.summaries(damaged=damaged)
    return [
        SessionSummary(
            id=s.id,
            created_at=s.created_at,
            updated_at=s.updated_at,
            messages=s.message_count,
            pending=len(s.pending_seqs),
            first_question=s.first_question,
        )
        for s in (found if limit is None else found[:limit])
    ]


def session_detail(store: SessionStore, session_id: str) -> SessionDetail:
    damaged: list[DamagedSession] = []
    messages = store.messages(session_id, damaged=damaged)
    return SessionDetail(store.get_session(session_id), tuple(messages), tuple(damaged))
