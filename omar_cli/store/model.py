"""What the session store hands out: frozen records, each defined once.

The dataclasses below are the whole description of a stored message: ``record.py`` turns
them into TinyDB documents and back, and checks vocabularies on the way. Adding a field is
adding it here, with a default, so documents written before it still read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from omar_cli.store.record import IDENTITY, iso

__all__ = ["iso"]


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


class Status(StrEnum):
    #: asked while it could not be answered yet (kept for a later `omar sync`)
    PENDING = "pending"
    ANSWERED = "answered"
    FAILED = "failed"
    #: the stream was cut and a partial answer kept
    INCOMPLETE = "incomplete"
    #: answered from the local knowledge only
    OFFLINE = "offline"


class Mode(StrEnum):
    """How a message was (or, on a question, is meant to be) answered."""

    ONLINE = "online"
    OFFLINE = "offline"


class ReviewState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EDITED = "edited"


ROLES: tuple[str, ...] = tuple(Role)
STATUSES: tuple[str, ...] = tuple(Status)
MODES: tuple[str, ...] = tuple(Mode)
REVIEW_STATES: tuple[str, ...] = tuple(ReviewState)


def _empty_map() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class Review:
    """A reviewer's verdict on an answer, photo analysis or transcript."""

    state: ReviewState = ReviewState.PENDING
    corrected_text: str | None = None  # kept beside the original text, never over it
    note: str | None = None
    reviewer: str | None = None
    at: datetime | None = None
    #: an approved item taken out of field knowledge (omar review withdraw): who, when
    withdrawn_by: str | None = None
    withdrawn_at: datetime | None = None


@dataclass(frozen=True)
class Grounding:
    """The knowledge excerpts actually sent: their ids, and the text or its hash."""

    entry_ids: tuple[str, ...] = ()
    sha256: str | None = None  # of the excerpt text as sent
    text: str | None = None


@dataclass(frozen=True)
class Provenance:
    """What produced an answer, so a reviewer sees exactly what the model saw."""

    model_text: str | None = None  # the model's own words, before any appended note
    safety_note: str | None = None  # appended by OMAR when the model left it out
    grounding: Grounding | None = None
    prompt_version: str | None = None
    endpoint_host: str | None = None
    request: Mapping[str, Any] = field(default_factory=_empty_map)  # temperature, max tokens…
    finish_reason: str | None = None


@dataclass(frozen=True)
class Lease:
    """A question being answered belongs to one process until the lease expires."""

    owner: str  # "host:pid"
    expires_at: datetime


@dataclass(frozen=True)
class Message:
    id: str = field(metadata=IDENTITY)  # "<session_id>.<seq>"
    session_id: str = field(metadata=IDENTITY)
    seq: int = field(metadata=IDENTITY)  # 1, 2, 3 ... within the session
    role: Role
    text: str
    status: Status
    created_at: datetime
    updated_at: datetime
    model: str | None = None
    usage: Usage | None = None
    latency_ms: int | None = None
    media: tuple[str, ...] = ()  # sha256 of files kept by add_media
    sources: tuple[str, ...] = ()  # knowledge entry ids the answer used
    #: on an answer, how it was produced; on a question, how it is meant to be answered
    mode: Mode | None = None
    reply_to: str | None = None  # id of the user message this answers
    error: str | None = None
    review: Review | None = None  # on answers (set by add_message), None on questions
    provenance: Provenance | None = None
    lease: Lease | None = None
    meta: Mapping[str, Any] = field(default_factory=_empty_map)


@dataclass(frozen=True)
class Session:
    id: str
    created_at: datetime
    updated_at: datetime  # last activity: creation or the latest message added
    title: str | None
    message_count: int  # messages kept; their seqs may skip numbers (see session_files.py)
    pending_count: int
    meta: Mapping[str, Any] = field(default_factory=_empty_map)


@dataclass(frozen=True)
class SessionSummary:
    """One session as the cross-session index keeps it (see index.py)."""

    id: str
    created_at: datetime
    updated_at: datetime
    title: str | None
    message_count: int
    first_question: str | None
    pending_seqs: tuple[int, ...]
    codes: tuple[str, ...]  # codes named in questions or cited by answers
    reviews: Mapping[str, int]  # review state -> how many answers are in it
    media: Mapping[str, int] = field(default_factory=_empty_map)  # photo/recording -> count


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
    # Sessions whose session.json was lost and rebuilt from their messages (title lost).
    rebuilt: tuple[str, ...] = ()


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
