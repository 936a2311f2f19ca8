"""One session's folder: a small ``session.json`` plus messages in chunks of 256.

TinyDB rewrites a whole file on every write, so the cost of a write follows the file's size.
Keeping at most 256 messages per chunk file bounds an append to one chunk plus the small
session file, whatever the history holds. ``session.json`` carries the counters (messages,
pending user questions, status counts, latency totals, review counts, codes named, the
first question), copied into the month index (index.py) for reads across sessions.

Crash safety across the files: each write bumps ``rev`` and names the message it writes
last in ``last_write``; the session file is written first, then the chunks (an answer
before the question it closes), and each message stores the same ``rev``. If the process
dies in between, the next locked operation finds that message's ``rev`` out of step and
recounts the session from its chunks, which are the truth. That recount is the only
operation that reads a whole session, and only after a crash, or after a damaged chunk was
moved aside.

Sequence numbers never go backwards: ``next_seq`` is taken by each add before its chunk is
written, and a recount never lowers it. A number an interrupted add took but never stored
cannot be told apart from one whose chunk the user moved aside (the StoreError hint tells
them to), and reusing the latter would give two messages the same id, so both are skipped.
``message_count`` is the number of messages kept, and a chunk file may be missing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Document, Table

from omar_cli.errors import NotFoundError
from omar_cli.i18n import _
from omar_cli.store.model import Message
from omar_cli.store.record import RecordError, from_doc
from omar_cli.store.storage import corrupt_error, fsync_dir, open_db

CHUNK_SIZE = 256
SESSION_FILE = "session.json"
_SESSION_TABLE = "session"
_MESSAGES_TABLE = "messages"
_CHUNK_FILE = re.compile(r"messages-([0-9]{4,})\.json")

Doc = dict[str, Any]


def chunk_index(seq: int) -> int:
    return (seq - 1) // CHUNK_SIZE


def chunk_name(index: int) -> str:
    return f"messages-{index:04d}.json"


def new_session_doc(session_id: str, now: str, title: str | None, meta: Mapping[str, Any]) -> Doc:
    return {
        "id": session_id,
        "created_at": now,
        "updated_at": now,
        "title": title,
        "meta": dict(meta),
        **_zero_counters(),
        "rev": 0,
        "last_write": None,
        "next_seq": 1,
    }


def _zero_counters() -> Doc:
    return {
        "message_count": 0,
        "pending_seqs": [],  # user questions still to answer; small, so kept as a list
        "counts": {},  # role -> status -> number of messages
        "latency_total_ms": 0,
        "latency_n": 0,
        "first_question": None,  # [seq, text] of the earliest question kept
        "codes": [],  # fault, alarm and parameter codes named by questions or answers
        "reviews": {},  # review state -> how many answers are in it
        "media": {},  # "photo" / "recording" -> how many questions carry one
    }


#: what the cross-session queries look for: F0001, A2001, and 4-digit parameters 2202
_CODE = re.compile(r"\b(?:[FA]\d{4}|\d{4})\b")
_FIRST_QUESTION_CHARS = 100  # what a session list shows, not the question


def codes_in(doc: Mapping[str, Any]) -> set[str]:
    found = (
        {c.upper() for c in _CODE.findall(doc["text"].upper())} if doc["role"] == "user" else set()
    )
    return found | {s.upper() for s in doc.get("sources") or () if _CODE.fullmatch(s.upper())}


def upgrade_state(state: Doc) -> Doc:
    """A session file from before the cross-session fields, given their empty values.

    The values themselves come from a recount (see migrations.py).
    """
    return {**_zero_counters(), **state}


def next_seq(state: Mapping[str, Any]) -> int:
    """The seq the session's next message gets."""
    stored = state.get("next_seq")
    # Absent from files written before it existed, when seqs had no gaps yet.
    return int(stored) if stored is not None else int(state["message_count"]) + 1


def count_message(state: Doc, seq: int, doc: Mapping[str, Any], sign: int) -> None:
    """Add (sign=1) or remove (sign=-1) one message's share of the session counters."""
    role, status = doc["role"], doc["status"]
    by_status = state["counts"].setdefault(role, {})
    by_status[status] = by_status.get(status, 0) + sign
    if by_status[status] == 0:
        del by_status[status]
    pending = set(state["pending_seqs"])
    if role == "user" and status == "pending":
        pending = pending | {seq} if sign > 0 else pending - {seq}
    state["pending_seqs"] = sorted(pending)
    if doc.get("latency_ms") is not None:
        state["latency_total_ms"] += sign * int(doc["latency_ms"])
        state["latency_n"] += sign
    _count_review(state, seq, doc, sign)
    _count_media(state, doc, sign)
    if sign > 0:
        first = state.get("first_question")
        if role == "user" and (first is None or seq <= first[0]):
            state["first_question"] = [seq, doc["text"][:_FIRST_QUESTION_CHARS]]
        # Codes only accumulate: a recount is the one place that forgets a removed one.
        state["codes"] = sorted(set(state.get("codes") or ()) | codes_in(doc))


def _count_review(state: Doc, seq: int, doc: Mapping[str, Any], sign: int) -> None:
    review = doc.get("review")
    if not review:
        return
    reviews = state.setdefault("reviews", {})
    # a withdrawn item keeps its verdict and is counted once more as withdrawn
    for key in (review["state"], "withdrawn" if review.get("withdrawn_at") else None):
        if key is None:
            continue
        reviews[key] = reviews.get(key, 0) + sign
        if reviews[key] <= 0:
            del reviews[key]


def _count_media(state: Doc, doc: Mapping[str, Any], sign: int) -> None:
    # Counted here so `omar review` lists photos and recordings without opening messages.
    if not doc.get("media"):
        return
    kind = "recording" if (doc.get("meta") or {}).get("kind") == "recording" else "photo"
    media = state.setdefault("media", {})
    media[kind] = media.get(kind, 0) + sign
    if media[kind] <= 0:
        del media[kind]


class SessionFiles:
    """A session's files, opened for one operation (TinyDB instances cache what they read)."""

    def __init__(self, sessions_dir: Path, session_id: str) -> None:
        self.id = session_id
        self.dir = sessions_dir / session_id
        self.state_path = self.dir / SESSION_FILE
        self._meta_db: TinyDB | None = None
        self._chunks: dict[int, TinyDB] = {}

    def _meta_table(self) -> Table:
        if self._meta_db is None:
            self._meta_db = open_db(self.state_path, sync_dir=False)
        return self._meta_db.table(_SESSION_TABLE)

    def chunk_table(self, index: int) -> Table:
        if index not in self._chunks:
            self._chunks[index] = open_db(self.dir / chunk_name(index), sync_dir=False)
        return self._chunks[index].table(_MESSAGES_TABLE)

    def read_state(self) -> Doc | None:
        doc = self._meta_table().get(doc_id=1)
        if doc is None:
            return None
        problem = state_problem(doc)
        if problem is None and doc["id"] != self.id:
            problem = _("it names session {id}").format(id=repr(doc["id"]))
        if problem is not None:
            raise corrupt_error(self.state_path, problem)
        return dict(doc)

    def state(self) -> Doc:
        state = self.read_state()
        if state is None:
            raise NotFoundError(
                _("no session {id}").format(id=repr(self.id)),
                hint=_("`omar sessions` lists the sessions kept on this machine."),
            )
        return state

    def create(self, state: Doc) -> None:
        self.dir.mkdir(parents=True)  # FileExistsError tells the caller to pick another id
        self._meta_table().insert(Document(state, doc_id=1))

    def write_state(self, state: Doc) -> None:
        self._meta_table().update(state, doc_ids=[1])

    def chunk_path(self, seq: int) -> Path:
        return self.dir / chunk_name(chunk_index(seq))

    def get(self, seq: int) -> Doc | None:
        doc = self.chunk_table(chunk_index(seq)).get(doc_id=seq)
        return None if doc is None else self._checked(chunk_index(seq), seq, doc)

    def _checked(self, index: int, seq: int, doc: Mapping[str, Any]) -> Doc:
        try:
            from_doc(Message, doc, id=f"{self.id}.{seq}", session_id=self.id, seq=seq)
        except RecordError as exc:
            raise corrupt_error(
                self.dir / chunk_name(index), _("message {seq}: {error}").format(seq=seq, error=exc)
            ) from None
        return dict(doc)

    def chunk_indexes(self) -> list[int]:
        """The chunk files present, listed from the folder rather than the counters."""
        try:
            names = [entry.name for entry in os.scandir(self.dir)]
        except FileNotFoundError:
            return []
        return sorted(int(m.group(1)) for m in map(_CHUNK_FILE.fullmatch, names) if m is not None)

    def iter_backwards(self, before_seq: int | None) -> Iterator[tuple[int, Doc]]:
        """Messages newest first, reading one chunk at a time: for the last few turns."""
        indexes = self.chunk_indexes()
        if before_seq is not None:
            indexes = [i for i in indexes if i <= chunk_index(max(1, before_seq - 1))]
        for index in reversed(indexes):
            items = list(self.chunk_items(index))
            for seq, doc in reversed(items):
                if before_seq is None or seq < before_seq:
                    yield seq, doc

    def sync(self) -> None:
        """Make this operation's renames in the folder durable: one fsync for all of them.

        Until then a power cut may keep any of them or none; each combination is one the
        recovery in ``verified_state`` already handles (see the module docstring).
        """
        fsync_dir(self.dir)

    def create_state(self, state: Doc) -> None:
        """Write a session file into an existing folder that lost its own."""
        self._meta_table().insert(Document(state, doc_id=1))

    def write_docs(self, docs: Mapping[int, Doc]) -> None:
        """Insert or replace messages: one whole-file write per chunk, in the order given.

        The order matters across chunks: an answer is written before the question it closes.
        """
        by_chunk: dict[int, dict[int, Doc]] = {}
        for seq, doc in docs.items():
            by_chunk.setdefault(chunk_index(seq), {})[seq] = doc
        for index in by_chunk:
            self.chunk_table(index)  # opens the file (and its cache) once
            storage = self._chunks[index].storage
            data = storage.read() or {}
            table = dict(data.get(_MESSAGES_TABLE, {}))
            table.update({str(seq): doc for seq, doc in by_chunk[index].items()})
            storage.write({**data, _MESSAGES_TABLE: table})
            self.chunk_table(index).clear_cache()

    def iter_from(self, seq: int) -> Iterator[tuple[int, Doc]]:
        """Messages from ``seq`` on, in order, reading only the chunks from its own."""
        for index in self.chunk_indexes():
            if index >= chunk_index(seq):
                yield from ((s, d) for s, d in self.chunk_items(index) if s >= seq)

    def iter_messages(self, state: Mapping[str, Any]) -> Iterator[tuple[int, Doc]]:
        """Messages in order, reading only the chunks the state says may exist.

        A chunk file that is absent (moved aside) yields nothing.
        """
        last = next_seq(state) - 1
        for index in range(chunk_index(last) + 1 if last else 0):
            yield from self.chunk_items(index)

    def chunk_items(self, index: int) -> Iterator[tuple[int, Doc]]:
        for doc in sorted(self.chunk_table(index).all(), key=lambda d: d.doc_id):
            yield doc.doc_id, self._checked(index, doc.doc_id, doc)

    def iter_records(self, state: Mapping[str, Any]) -> Iterator[Message]:
        """``iter_messages``, built as records in the same pass that checks them."""
        last = next_seq(state) - 1
        for index in range(chunk_index(last) + 1 if last else 0):
            yield from self.chunk_messages(index)

    def chunk_messages(self, index: int) -> Iterator[Message]:
        """The chunk's messages, checked and built in one pass (``chunk_items`` + building
        would read each twice: whole-session reads are what review exports do most)."""
        for doc in sorted(self.chunk_table(index).all(), key=lambda d: d.doc_id):
            seq = doc.doc_id
            try:
                yield from_doc(Message, doc, id=f"{self.id}.{seq}", session_id=self.id, seq=seq)
            except RecordError as exc:
                raise corrupt_error(self.dir / chunk_name(index), f"message {seq}: {exc}") from None

    def _scan_all(self) -> Iterator[tuple[int, Doc]]:
        # Lists the folder instead of trusting the counter, which is what is being repaired.
        for index in self.chunk_indexes():
            yield from self.chunk_items(index)

    def verified_state(self) -> Doc:
        """The session's state, recounted first if a crash left the two files out of step.

        Call with the store lock held.
        """
        state = self.state()
        last = state["last_write"]
        if last is not None:
            doc = self.get(last)
            if doc is None or doc.get("rev") != state["rev"]:
                return self.recount(state)
        # A message past the counter means a chunk reached the disk and the session file did
        # not (only possible after a power cut); without this the next add would collide.
        if self.get(next_seq(state)) is not None:
            return self.recount(state)
        return state

    def recount(self, state: Doc) -> Doc:
        fresh = {**upgrade_state(state), **_zero_counters(), "last_write": None}
        last_activity = state["created_at"]
        top = next_seq(state) - 1  # never lowered: see the module docstring
        for seq, doc in self._scan_all():
            fresh["message_count"] += 1
            top = max(top, seq)
            count_message(fresh, seq, doc, 1)
            fresh["rev"] = max(fresh["rev"], int(doc.get("rev", 0)))
            last_activity = max(last_activity, doc["created_at"])
        fresh["updated_at"] = last_activity
        fresh["next_seq"] = top + 1
        self.write_state(fresh)
        self.sync()
        return fresh


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
_STATE_OPTIONAL: dict[str, type] = {
    "title": str,
    "last_write": int,
    "next_seq": int,
    "first_question": list,
    "codes": list,
    "reviews": dict,
}


def state_problem(doc: Mapping[str, Any]) -> str | None:
    """What is wrong with a session file, so a hand-edited one fails clearly, not later."""
    for key, kind in _STATE_FIELDS.items():
        if not isinstance(doc.get(key), kind):
            return _("{key} is missing or not a {kind}").format(key=repr(key), kind=kind.__name__)
    for key, kind in _STATE_OPTIONAL.items():
        if doc.get(key) is not None and not isinstance(doc[key], kind):
            return _("{key} is not a {kind}").format(key=repr(key), kind=kind.__name__)
    for key in ("created_at", "updated_at"):
        try:
            datetime.fromisoformat(doc[key])
        except ValueError:
            return _("{key} is not an ISO 8601 timestamp").format(key=repr(key))
    return None
