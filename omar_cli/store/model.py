"""What the session store hands out: frozen records, and their on-disk document shape.

Documents are plain JSON-able dicts so TinyDB can hold them; the records are frozen so a
caller cannot change the store by mutating what it got back.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

Role = Literal["user", "assistant"]
ROLES: tuple[str, ...] = ("user", "assistant")

#: pending = asked while it could not be answered yet (kept for a later retry);
#: incomplete = the stream was cut and a partial answer kept; offline = answered from the
#: local knowledge only.
STATUSES: tuple[str, ...] = ("pending", "answered", "failed", "incomplete", "offline")
MODES: tuple[str, ...] = ("online", "offline")


class Keep(Enum):
    """Marks an update_message field left unchanged (None is a real value: "clear it")."""

    KEEP = "keep"


KEEP = Keep.KEEP


def _empty_meta() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class Message:
    id: str  # "<session_id>.<seq>"
    session_id: str
    seq: int  # 1, 2, 3 ... within the session
    role: str  # one of ROLES
    text: str
    status: str  # one of STATUSES
    created_at: datetime
    updated_at: datetime
    model: str | None = None
    usage: Usage | None = None
    latency_ms: int | None = None
    media: tuple[str, ...] = ()  # sha256 of files kept by add_media
    sources: tuple[str, ...] = ()  # knowledge entry ids the answer used
    mode: str | None = None  # one of MODES
    reply_to: str | None = None  # id of the user message this answers
    error: str | None = None
    meta: Mapping[str, Any] = field(default_factory=_empty_meta)


@dataclass(frozen=True)
class Session:
    id: str
    created_at: datetime
    updated_at: datetime  # last activity: creation or the latest message added
    title: str | None
    message_count: int  # messages kept; their seqs may skip numbers (see session_files.py)
    pending_count: int
    meta: Mapping[str, Any] = field(default_factory=_empty_meta)


@dataclass(frozen=True)
class StoreStats:
    path: Path
    size_bytes: int
    sessions: int
    messages: int
    pending: int
    answered: int  # assistant messages with status "answered"
    avg_latency_ms: float | None  # over messages that recorded a latency
    # The unreadable file of each session the numbers leave out (see damaged_sessions()).
    damaged: tuple[str, ...] = ()


@dataclass(frozen=True)
class DamagedSession:
    """A session whole-store reads skipped because one of its files could not be read."""

    session_id: str
    path: Path  # the file to move aside
    problem: str  # the StoreError's message, naming the file
    hint: str | None


@dataclass(frozen=True)
class MediaRef:
    sha256: str
    path: Path
    size: int
    suffix: str  # without the dot, lower case: "jpg", "wav"


def iso(moment: datetime) -> str:
    # Fixed width (always microseconds) so stored timestamps also sort as strings.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def frozen_meta(meta: Mapping[str, Any] | None) -> Mapping[str, Any]:
    # A deep copy so nested dicts are not shared with the cached file contents.
    return MappingProxyType(copy.deepcopy(dict(meta or {})))


def usage_to_doc(usage: Usage | None) -> dict[str, int] | None:
    if usage is None:
        return None
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def usage_from_doc(doc: Mapping[str, Any] | None) -> Usage | None:
    if doc is None:
        return None
    return Usage(
        prompt_tokens=int(doc["prompt_tokens"]),
        completion_tokens=int(doc["completion_tokens"]),
        total_tokens=int(doc["total_tokens"]),
    )


def message_from_doc(session_id: str, seq: int, doc: Mapping[str, Any]) -> Message:
    return Message(
        id=f"{session_id}.{seq}",
        session_id=session_id,
        seq=seq,
        role=doc["role"],
        text=doc["text"],
        status=doc["status"],
        created_at=parse_iso(doc["created_at"]),
        updated_at=parse_iso(doc["updated_at"]),
        model=doc.get("model"),
        usage=usage_from_doc(doc.get("usage")),
        latency_ms=doc.get("latency_ms"),
        media=tuple(doc.get("media", ())),
        sources=tuple(doc.get("sources", ())),
        mode=doc.get("mode"),
        reply_to=doc.get("reply_to"),
        error=doc.get("error"),
        meta=frozen_meta(doc.get("meta")),
    )


def session_from_doc(doc: Mapping[str, Any]) -> Session:
    return Session(
        id=doc["id"],
        created_at=parse_iso(doc["created_at"]),
        updated_at=parse_iso(doc["updated_at"]),
        title=doc.get("title"),
        message_count=int(doc["message_count"]),
        pending_count=len(doc["pending_seqs"]),
        meta=frozen_meta(doc.get("meta")),
    )


_STATE_FIELDS: dict[str, type] = {
    "id": str,
    "created_at": str,
    "updated_at": str,
    "meta": dict,
    "message_count": int,
    "pending_seqs": list,
    "counts": dict,
    "latency_total_ms": int,
    "latency_n": int,
    "rev": int,
}
_MESSAGE_FIELDS: dict[str, type] = {
    "role": str,
    "text": str,
    "status": str,
    "created_at": str,
    "updated_at": str,
    "media": list,
    "sources": list,
    "meta": dict,
}
_OPTIONAL_FIELDS: dict[str, type] = {
    "title": str,
    "last_write": int,
    "next_seq": int,
    "model": str,
    "usage": dict,
    "latency_ms": int,
    "mode": str,
    "reply_to": str,
    "error": str,
    "rev": int,
}
_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")


def shape_problem(doc: Mapping[str, Any], *, message: bool) -> str | None:
    """What is wrong with a stored document, so a hand-edited file fails clearly, not later."""
    for key, kind in (_MESSAGE_FIELDS if message else _STATE_FIELDS).items():
        if not isinstance(doc.get(key), kind):
            return f"{key!r} is missing or not a {kind.__name__}"
    for key, kind in _OPTIONAL_FIELDS.items():
        if doc.get(key) is not None and not isinstance(doc[key], kind):
            return f"{key!r} is not a {kind.__name__}"
    usage = doc.get("usage")
    if usage is not None and not all(isinstance(usage.get(k), int) for k in _USAGE_KEYS):
        return "'usage' lacks token counts"
    for key in ("created_at", "updated_at"):
        try:
            parse_iso(doc[key])
        except ValueError:
            return f"{key!r} is not an ISO 8601 timestamp"
    return None


def check_choice(name: str, value: str | None, allowed: tuple[str, ...]) -> None:
    """Reject a value outside its vocabulary: that is a caller's bug, not a user's mistake."""
    if value is not None and value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")


def stored_changes(given: Mapping[str, Any]) -> dict[str, Any]:
    """The fields update_message was given, checked and in their stored form."""
    changes = {name: value for name, value in given.items() if value is not KEEP}
    if "status" in changes:
        check_choice("status", changes["status"], STATUSES)
    if "mode" in changes:
        check_choice("mode", changes["mode"], MODES)
    if "usage" in changes:
        changes["usage"] = usage_to_doc(changes["usage"])
    if "sources" in changes:
        changes["sources"] = list(changes["sources"])
    if "meta" in changes:
        changes["meta"] = dict(changes["meta"])
    return changes
