"""Records built from stored documents: sessions, their index summaries, pending questions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from omar_cli.errors import StoreError
from omar_cli.store.model import DamagedSession, Message, Session, SessionSummary
from omar_cli.store.record import from_doc, frozen_map
from omar_cli.store.session_files import SessionFiles


def session_from_doc(doc: Mapping[str, Any]) -> Session:
    return Session(
        id=doc["id"],
        created_at=datetime.fromisoformat(doc["created_at"]),
        updated_at=datetime.fromisoformat(doc["updated_at"]),
        title=doc.get("title"),
        message_count=int(doc["message_count"]),
        pending_count=len(doc["pending_seqs"]),
        meta=frozen_map(doc.get("meta")),
    )


def summary_from_doc(doc: Mapping[str, Any]) -> SessionSummary:
    first = doc.get("first_question")
    return SessionSummary(
        id=doc["id"],
        created_at=datetime.fromisoformat(doc["created_at"]),
        updated_at=datetime.fromisoformat(doc["updated_at"]),
        title=doc.get("title"),
        message_count=int(doc["message_count"]),
        first_question=first[1] if first else None,
        pending_seqs=tuple(doc["pending_seqs"]),
        codes=tuple(doc.get("codes") or ()),
        reviews=MappingProxyType(dict(doc.get("reviews") or {})),
    )


def pending_in(
    files: SessionFiles, state: Mapping[str, Any]
) -> tuple[list[Message], list[DamagedSession]]:
    """The session's pending questions, or none and why when one of them cannot be read."""
    found = []
    for seq in state["pending_seqs"]:
        try:
            doc = files.get(seq)
        except StoreError as exc:
            damage = DamagedSession(files.id, files.chunk_path(seq), exc.message, exc.hint)
            return [], [damage]
        # Re-checked: the counters may trail a crash until the next locked write.
        if doc is not None and doc["role"] == "user" and doc["status"] == "pending":
            found.append(
                from_doc(Message, doc, id=f"{files.id}.{seq}", session_id=files.id, seq=seq)
            )
    return found, []
