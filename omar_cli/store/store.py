"""The local session store: sessions, their messages, and the media they refer to.

Layout under ``root`` (see session_files.py for why messages are chunked)::

    meta.json                     schema version and applied migrations
    state.json                    the most recently active session
    .lock                         inter-process lock for every read-modify-write
    .sync.lock                    held for a whole `omar sync` (see sync_lock)
    sessions/<id>/session.json    one session's title, meta and counters
    sessions/<id>/messages-0000.json   messages 1-256, then -0001 for 257-512, ...
    media/ab/abcdef….jpg          photos and recordings, named by sha256

Reads take no lock: every file is replaced atomically, so a reader sees a whole old or a
whole new file. Writes hold the lock only for their few milliseconds of file work; callers
must not hold a store call open across a network request, and the API offers no way to.
The one lock meant to span network calls, ``sync_lock``, is a separate file that no write
waits for.

Whole-store reads (``list_sessions``, ``pending``, ``stats``, ``repair``) skip a session
whose files they cannot read, so one damaged file never hides the other sessions;
``damaged_sessions`` and ``StoreStats.damaged`` name what was skipped. Anything done to
that one session still raises the StoreError naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tinydb.table import Document

from omar_cli.clock import utc_now
from omar_cli.errors import NotFoundError, StoreError
from omar_cli.store.ids import is_session_id, new_session_id, parse_message_id
from omar_cli.store.locking import SYNC_LOCK, StoreLock
from omar_cli.store.media import MediaFiles, check_sha256
from omar_cli.store.migrations import (
    MEDIA_DIR,
    META_FILE,
    MIGRATIONS,
    SESSIONS_DIR,
    Migration,
    apply_pending,
    check_migrations,
    read_schema,
    refuse_newer,
)
from omar_cli.store.model import (
    KEEP,
    MODES,
    ROLES,
    STATUSES,
    DamagedSession,
    Keep,
    MediaRef,
    Message,
    Session,
    StoreStats,
    Usage,
    check_choice,
    iso,
    message_from_doc,
    session_from_doc,
    stored_changes,
    usage_to_doc,
)
from omar_cli.store.session_files import (
    SessionFiles,
    count_message,
    new_session_doc,
    next_seq,
)
from omar_cli.store.storage import fsync_dir, open_db

STATE_FILE = "state.json"
_STATE_TABLE = "state"

Clock = Callable[[], datetime]


@dataclass
class _Survey:
    """What one pass over every session found."""

    states: list[dict[str, Any]] = field(default_factory=list)
    pending: list[Message] = field(default_factory=list)
    damaged: list[DamagedSession] = field(default_factory=list)


class SessionStore:
    def __init__(
        self,
        root: Path,
        *,
        clock: Clock = utc_now,
        lock_timeout: float = 10.0,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> None:
        self.root = Path(root)
        self._clock = clock
        self._migrations = tuple(migrations)
        self._lock_timeout = lock_timeout
        self._lock = StoreLock(self.root)
        self._sync = StoreLock(self.root, SYNC_LOCK)
        self._sessions_dir = self.root / SESSIONS_DIR
        self._media = MediaFiles(self.root / MEDIA_DIR)
        latest = check_migrations(self._migrations)
        version, _ = read_schema(self.root)
        refuse_newer(self.root, version, latest)
        self._ready = version == latest
        # An existing store that is behind is migrated now; an empty or absent one is set up
        # at its first write, so merely opening (e.g. for `omar --help`) creates nothing.
        has_data = (self.root / META_FILE).exists() or self._sessions_dir.exists()
        if not self._ready and has_data:
            self._ensure_ready()

    # -- plumbing ---------------------------------------------------------------------

    def _now(self) -> datetime:
        moment = self._clock()
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("the store's clock must return an aware datetime")
        return moment.astimezone(UTC)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        with self._lock.held(self._lock_timeout):
            if not self._ready:
                apply_pending(self.root, self._migrations, self._now)
                self._ready = True
            yield

    def _ensure_ready(self) -> None:
        with self._writing():
            pass

    def _files(self, session_id: str) -> SessionFiles:
        if not is_session_id(session_id):
            raise NotFoundError(
                f"no session {session_id!r}",
                hint="Session ids look like 20261125-123501-3f9a; `omar sessions` lists them.",
            )
        return SessionFiles(self._sessions_dir, session_id)

    def _session_ids(self) -> list[str]:
        try:
            entries = sorted(e.name for e in os.scandir(self._sessions_dir) if e.is_dir())
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(f"cannot list {self._sessions_dir}: {exc.strerror or exc}") from exc
        return [name for name in entries if is_session_id(name)]

    def _survey(self, *, read_pending: bool) -> _Survey:
        """Every readable session's state; with ``read_pending``, its pending questions too.

        A session whose session file cannot be read is left out; one whose pending question
        cannot be read keeps its state but gives no questions. Both are reported.
        """
        found = _Survey()
        for session_id in self._session_ids():
            files = SessionFiles(self._sessions_dir, session_id)
            try:
                state = files.read_state()
            except StoreError as exc:
                found.damaged.append(_damaged(session_id, files.state_path, exc))
                continue
            if state is None:
                continue  # a folder whose session file never got written (crash at creation)
            found.states.append(state)
            if read_pending:
                questions, damaged = _pending_in(files, state)
                found.pending.extend(questions)
                found.damaged.extend(damaged)
        return found

    def _set_recent(self, session_id: str) -> None:
        # Rewritten only when the active session changes, not on every message.
        table = open_db(self.root / STATE_FILE).table(_STATE_TABLE)
        current = table.get(doc_id=1)
        if current is None:
            table.insert(Document({"recent_session": session_id}, doc_id=1))
        elif current.get("recent_session") != session_id:
            table.update({"recent_session": session_id}, doc_ids=[1])

    # -- sessions ---------------------------------------------------------------------

    def create_session(
        self, title: str | None = None, meta: Mapping[str, Any] | None = None
    ) -> Session:
        with self._writing():
            return self._create_locked(title, meta)

    def _create_locked(self, title: str | None, meta: Mapping[str, Any] | None) -> Session:
        now = self._now()
        for _attempt in range(50):
            files = SessionFiles(self._sessions_dir, new_session_id(now))
            state = new_session_doc(files.id, iso(now), title, meta or {})
            try:
                files.create(state)
            except FileExistsError:
                continue  # same second, same random tail: draw again
            except OSError as exc:
                raise StoreError(
                    f"cannot create {files.dir}: {exc.strerror or exc}",
                    hint="Check that the data folder is writable.",
                ) from exc
            break
        else:
            raise StoreError("could not find a free session id", hint="Try again.")
        fsync_dir(self._sessions_dir)
        self._set_recent(files.id)
        return session_from_doc(state)

    def get_session(self, session_id: str) -> Session:
        return session_from_doc(self._files(session_id).state())

    def update_session(
        self,
        session_id: str,
        *,
        title: str | Keep | None = KEEP,
        meta: Mapping[str, Any] | Keep = KEEP,
    ) -> Session:
        with self._writing():
            files = self._files(session_id)
            state = files.state()
            if not isinstance(title, Keep):
                state["title"] = title
            if not isinstance(meta, Keep):
                state["meta"] = dict(meta)
            files.write_state(state)
        return session_from_doc(state)

    def recent_session(self, within: timedelta) -> Session | None:
        pointer = open_db(self.root / STATE_FILE).table(_STATE_TABLE).get(doc_id=1)
        session_id = None if pointer is None else pointer.get("recent_session")
        if not isinstance(session_id, str) or not is_session_id(session_id):
            return None
        state = SessionFiles(self._sessions_dir, session_id).read_state()
        if state is None:
            return None
        session = session_from_doc(state)
        return session if self._now() - session.updated_at <= within else None

    def recent_or_create(self, within: timedelta, title: str | None = None) -> tuple[Session, bool]:
        """The session active within ``within``, or a new one; True when it was created.

        Decided under the write lock, so many first `omar ask` runs at once on an empty
        store share one new session instead of each creating its own.
        """
        with self._writing():
            recent = self.recent_session(within)
            if recent is not None:
                return recent, False
            return self._create_locked(title, None), True

    def list_sessions(self, limit: int | None = None) -> list[Session]:
        """Newest activity first; a session whose file is damaged is left out."""
        sessions = [session_from_doc(state) for state in self._survey(read_pending=False).states]
        sessions.sort(key=lambda s: (s.updated_at, s.id), reverse=True)
        return sessions if limit is None else sessions[:limit]

    # -- messages ---------------------------------------------------------------------

    def add_message(
        self,
        session_id: str,
        role: str,
        text: str,
        *,
        status: str,
        model: str | None = None,
        usage: Usage | None = None,
        latency_ms: int | None = None,
        media: Sequence[str] = (),
        sources: Sequence[str] = (),
        mode: str | None = None,
        reply_to: str | None = None,
        error: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Message:
        check_choice("role", role, ROLES)
        check_choice("status", status, STATUSES)
        check_choice("mode", mode, MODES)
        for sha256 in media:
            check_sha256(sha256)
        if reply_to is not None:
            parse_message_id(reply_to)
        fields = {
            "role": role,
            "text": text,
            "status": status,
            "model": model,
            "usage": usage_to_doc(usage),
            "latency_ms": latency_ms,
            "media": list(media),
            "sources": list(sources),
            "mode": mode,
            "reply_to": reply_to,
            "error": error,
            "meta": dict(meta or {}),
        }
        with self._writing():
            files = self._files(session_id)
            state = files.verified_state()
            now = iso(self._now())
            seq, rev = next_seq(state), state["rev"] + 1
            doc = {**fields, "created_at": now, "updated_at": now, "rev": rev}
            count_message(state, seq, doc, 1)
            state.update(
                message_count=state["message_count"] + 1,
                next_seq=seq + 1,
                rev=rev,
                last_write=seq,
                updated_at=now,
            )
            # Session file first, then the chunk: see session_files.py for the recovery.
            files.write_state(state)
            files.insert(seq, doc)
            self._set_recent(session_id)
        return message_from_doc(session_id, seq, doc)

    def update_message(
        self,
        message_id: str,
        *,
        status: str | Keep = KEEP,
        text: str | Keep = KEEP,
        model: str | Keep | None = KEEP,
        usage: Usage | Keep | None = KEEP,
        latency_ms: int | Keep | None = KEEP,
        sources: Sequence[str] | Keep = KEEP,
        mode: str | Keep | None = KEEP,
        error: str | Keep | None = KEEP,
        meta: Mapping[str, Any] | Keep = KEEP,
    ) -> Message:
        """Change the given fields only; pass None to clear an optional one."""
        session_id, seq = parse_message_id(message_id)
        given: dict[str, Any] = {
            "status": status,
            "text": text,
            "model": model,
            "usage": usage,
            "latency_ms": latency_ms,
            "sources": sources,
            "mode": mode,
            "error": error,
            "meta": meta,
        }
        changes = stored_changes(given)
        with self._writing():
            files = self._files(session_id)
            state = files.verified_state()
            old = files.get(seq)
            if old is None:
                raise NotFoundError(f"no message {message_id!r}")
            rev = state["rev"] + 1
            new = {**old, **changes, "updated_at": iso(self._now()), "rev": rev}
            count_message(state, seq, old, -1)
            count_message(state, seq, new, 1)
            state.update(rev=rev, last_write=seq)
            files.write_state(state)
            files.replace(seq, new)
        return message_from_doc(session_id, seq, new)

    def get_message(self, message_id: str) -> Message:
        session_id, seq = parse_message_id(message_id)
        doc = self._files(session_id).get(seq)
        if doc is None:
            raise NotFoundError(f"no message {message_id!r}")
        return message_from_doc(session_id, seq, doc)

    def messages(self, session_id: str) -> list[Message]:
        files = self._files(session_id)
        state = files.state()
        return [message_from_doc(session_id, seq, doc) for seq, doc in files.iter_messages(state)]

    def pending(self) -> list[Message]:
        """Pending user questions, oldest first, read from disk afresh on every call.

        Questions in a damaged session are left out; ``damaged_sessions()`` names it.
        """
        found = self._survey(read_pending=True).pending
        found.sort(key=lambda m: (m.created_at, m.session_id, m.seq))
        return found

    def damaged_sessions(self) -> list[DamagedSession]:
        """The sessions ``list_sessions``, ``pending`` and ``stats`` skip, wholly or in part.

        One per session, naming the first file that could not be read. Nothing is changed:
        the user moves the file aside, as the hint says.
        """
        return self._survey(read_pending=True).damaged

    @contextmanager
    def sync_lock(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the store's sync lock: at most one process at a time sends pending questions.

        Meant to span network calls, so it is not the write lock: every store method,
        writes included, works meanwhile, from this process and from others. ``timeout``
        in seconds; None waits for the other sync to finish (it then leaves nothing to
        send); StoreError when the wait runs out. Read ``pending()`` after taking it.
        """
        with self._sync.held(timeout):
            yield

    # -- media and maintenance -------------------------------------------------------

    def add_media(self, data: bytes, suffix: str) -> MediaRef:
        self._ensure_ready()  # the media write itself needs no lock (see media.py)
        return self._media.add(data, suffix)

    def media_path(self, sha256: str) -> Path:
        return self._media.path(sha256)

    def stats(self) -> StoreStats:
        sessions = messages = pending = answered = latency_total = latency_n = 0
        survey = self._survey(read_pending=True)
        for state in survey.states:
            sessions += 1
            messages += state["message_count"]
            pending += len(state["pending_seqs"])
            answered += state["counts"].get("assistant", {}).get("answered", 0)
            latency_total += state["latency_total_ms"]
            latency_n += state["latency_n"]
        return StoreStats(
            path=self.root,
            size_bytes=_tree_size(self.root),
            sessions=sessions,
            messages=messages,
            pending=pending,
            answered=answered,
            avg_latency_ms=latency_total / latency_n if latency_n else None,
            damaged=tuple(str(d.path) for d in survey.damaged),
        )

    def repair(self) -> list[str]:
        """Recount every session a crash left inconsistent; returns their ids.

        Writes do this for the session they touch; this is for a doctor command or a test.
        A damaged session is skipped, as ``damaged_sessions()`` reports.
        """
        repaired = []
        with self._writing():
            for state in self._survey(read_pending=False).states:
                files = SessionFiles(self._sessions_dir, state["id"])
                try:
                    if files.verified_state() != state:
                        repaired.append(state["id"])
                except StoreError:
                    continue
        return repaired


def _pending_in(
    files: SessionFiles, state: Mapping[str, Any]
) -> tuple[list[Message], list[DamagedSession]]:
    """The session's pending questions, or none and why when one of them cannot be read."""
    found = []
    for seq in state["pending_seqs"]:
        try:
            doc = files.get(seq)
        except StoreError as exc:
            return [], [_damaged(files.id, files.chunk_path(seq), exc)]
        # Re-checked: the counters may trail a crash until the next locked write.
        if doc is not None and doc["role"] == "user" and doc["status"] == "pending":
            found.append(message_from_doc(files.id, seq, doc))
    return found, []


def _damaged(session_id: str, path: Path, error: StoreError) -> DamagedSession:
    return DamagedSession(session_id, path, error.message, error.hint)


def _tree_size(root: Path) -> int:
    total = 0
    for folder, _dirs, names in os.walk(root):
        for name in names:
            try:
                total += os.stat(os.path.join(folder, name)).st_size
            except OSError:
                continue  # a temp file renamed away while we walked
    return total
