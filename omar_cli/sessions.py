"""What `omar sessions` shows: the sessions kept on this machine and their messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omar_cli.store import Message, Session, SessionStore


@dataclass(frozen=True)
class SessionSummary:
    id: str
    created_at: str
    updated_at: str
    messages: int
    pending: int
    first_question: str | None


@dataclass(frozen=True)
class SessionDetail:
    session: Session
    messages: tuple[Message, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"session": _plain(self.session), "messages": [_plain(m) for m in self.messages]}


def list_sessions(store: SessionStore, limit: int | None) -> list[SessionSummary]:
    """Newest activity first, each with the question it started with."""
    summaries = []
    for session in store.list_sessions(limit=limit):
        first = next(iter(store.messages(session.id)), None) if session.message_count else None
        summaries.append(
            SessionSummary(
                id=session.id,
                created_at=str(session.created_at),
                updated_at=str(session.updated_at),
                messages=session.message_count,
                pending=session.pending_count,
                first_question=first.text if first is not None else None,
            )
        )
    return summaries


def session_detail(store: SessionStore, session_id: str) -> SessionDetail:
    return SessionDetail(store.get_session(session_id), tuple(store.messages(session_id)))


def _plain(value: Any) -> Any:
    # frozen records hold read-only mappings and datetimes; JSON wants plain values
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in dict(value).items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
