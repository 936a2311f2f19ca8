"""Reads across sessions, served by the month index (index.py), and the records they build.

``StoreQueries`` is the read side of ``SessionStore``: status numbers, the session list,
review and code queries, pending questions and damage, none of which opens every session.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from omar_cli.errors import StoreError
from omar_cli.store.index import IndexRead, SessionIndex
from omar_cli.store.migrations import SESSIONS_DIR
from omar_cli.store.model import DamagedSession, Message, Session, SessionSummary, StoreStats
from omar_cli.store.record import RecordError, from_doc, frozen_map, iso
from omar_cli.store.session_files import SessionFiles, chunk_name
from omar_cli.store.storage import corrupt_error


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
        media=MappingProxyType(dict(doc.get("media") or {})),
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


class StoreQueries:
    """Cross-session reads; ``SessionStore`` provides the plumbing declared here."""

    root: Path
    _index: SessionIndex
    _sessions_dir: Path

    def _read(self, months: Sequence[str] | None = None) -> IndexRead:
        raise NotImplementedError

    def update_message(self, message_id: str, **changes: Any) -> Message:
        raise NotImplementedError

    def summaries(
        self,
        *,
        review: str | None = None,
        code: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        pending: bool | None = None,
        damaged: list[DamagedSession] | None = None,
    ) -> list[SessionSummary]:
        """Sessions matching every filter given, from the index alone, newest first.

        ``review``: has an answer in that review state; ``code``: a code named in a question
        or cited by an answer; ``since``/``until``: activity within the range; ``pending``:
        has (or has no) question waiting. A ``damaged`` list receives what
        ``damaged_sessions()`` would name, from the same read.
        """
        months = None
        if until is not None:  # a session cannot be active before it was created
            months = [m for m in self._index.iter_months() if m <= f"{until:%Y%m}"]
        # Filtered on the stored documents (fixed-width UTC timestamps compare as text),
        # so only the matches are turned into records.
        after = iso(since) if since is not None else None
        before = iso(until) if until is not None else None
        wanted = code.upper() if code is not None else None
        read = self._read(months)
        if damaged is not None:
            damaged.extend(self._damaged_in(read))
        found = [
            summary_from_doc(doc)
            for doc in read.states
            if (review is None or (doc.get("reviews") or {}).get(review))
            and (wanted is None or wanted in (doc.get("codes") or ()))
            and (after is None or doc["updated_at"] >= after)
            and (before is None or doc["created_at"] <= before)
            and (pending is None or bool(doc["pending_seqs"]) == pending)
        ]
        found.sort(key=lambda s: (s.updated_at, s.id), reverse=True)
        return found

    def reviewed(self, session_id: str, states: Collection[str]) -> list[Message]:
        """The session's items in one of the review ``states``, with the questions they
        reply to, in order. Only those are built from their documents: an export of
        thousands of sessions reads every file but checks a tenth of the messages.

        StoreError names a chunk that cannot be read, or a selected message that is damaged.
        """
        files = SessionFiles(self._sessions_dir, session_id)
        docs: dict[int, tuple[int, Mapping[str, Any]]] = {}
        for index in files.chunk_indexes():
            docs.update((doc.doc_id, (index, doc)) for doc in files.chunk_table(index).all())
        wanted: set[int] = set()
        for seq, (_index, doc) in docs.items():
            review = doc.get("review")
            if isinstance(review, Mapping) and review.get("state") in states:
                wanted.add(seq)
                replied = str(doc.get("reply_to") or "")
                if replied.rpartition(".")[0] == session_id:
                    wanted.add(int(replied.rpartition(".")[2]))
        found = []
        for seq in sorted(wanted & set(docs)):
            index, doc = docs[seq]
            try:
                found.append(from_doc(Message, doc, id=f"{session_id}.{seq}",
                                      session_id=session_id, seq=seq))  # fmt: skip
            except RecordError as exc:
                raise corrupt_error(
                    files.dir / chunk_name(index), f"message {seq}: {exc}"
                ) from None
        return found

    def pending(self) -> list[Message]:
        """Questions ``omar sync`` may send, oldest first, read from disk afresh on every call.

        Left out: questions asked for an offline answer (mode offline), and questions in a
        damaged session (``damaged_sessions()`` names it).
        """
        found: list[Message] = []
        for state in self._read().states:
            if state["pending_seqs"]:
                questions, _damage = pending_in(
                    SessionFiles(self._sessions_dir, state["id"]), state
                )
                found.extend(q for q in questions if q.mode != "offline")
        found.sort(key=lambda m: (m.created_at, m.session_id, m.seq))
        return found

    def retry_failed(self) -> list[str]:
        """Put every failed question back in the queue; their ids."""
        requeued = []
        for state in self._read().states:
            if not state["counts"].get("user", {}).get("failed"):
                continue
            files = SessionFiles(self._sessions_dir, state["id"])
            for seq, doc in files.iter_messages(state):
                if doc["role"] == "user" and doc["status"] == "failed":
                    message_id = f"{state['id']}.{seq}"
                    self.update_message(message_id, status="pending", error=None)
                    requeued.append(message_id)
        return requeued

    def damaged_sessions(self) -> list[DamagedSession]:
        """The sessions ``list_sessions``, ``pending`` and ``stats`` skip, wholly or in part."""
        return self._damaged_in(self._read())

    def _damaged_in(self, read: IndexRead) -> list[DamagedSession]:
        damaged = [*read.damaged, *self._index.damaged_chunks(read.states)]
        for state in read.states:
            if state["pending_seqs"]:
                files = SessionFiles(self._sessions_dir, state["id"])
                damaged.extend(pending_in(files, state)[1])
        unique = {(d.session_id, d.path): d for d in damaged}
        return list(unique.values())

    def stats(self) -> StoreStats:
        read = self._read()
        states = read.states
        latency_total = sum(s["latency_total_ms"] for s in states)
        latency_n = sum(s["latency_n"] for s in states)
        return StoreStats(
            path=self.root,
            size_bytes=self._index.size_bytes(states) + _size_outside_sessions(self.root),
            sessions=len(states),
            messages=sum(s["message_count"] for s in states),
            pending=sum(len(s["pending_seqs"]) for s in states),
            answered=sum(s["counts"].get("assistant", {}).get("answered", 0) for s in states),
            avg_latency_ms=latency_total / latency_n if latency_n else None,
            damaged=tuple(str(d.path) for d in self._damaged_in(read)),
            rebuilt=tuple(s["id"] for s in states if (s.get("meta") or {}).get("rebuilt")),
        )


def _size_outside_sessions(root: Path) -> int:
    """Media, index and top-level files; the session files are summed from the index."""
    total = 0
    for folder, dirs, names in os.walk(root):
        if folder == str(root):
            dirs[:] = [d for d in dirs if d != SESSIONS_DIR]
        for name in names:
            try:
                total += os.stat(os.path.join(folder, name)).st_size
            except OSError:
                continue  # a temp file renamed away while we walked
    return total
