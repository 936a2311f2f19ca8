"""The local session store: sessions, their messages, and the media they refer to.

Layout under ``root`` (see session_files.py for why messages are chunked)::

    meta.json                     schema version and applied migrations
    state.json                    the most recently active session (a pointer: rebuilt)
    .lock                         inter-process lock for every read-modify-write
    .sync.lock                    held for a whole `omar sync` (see sync_lock)
    index/202611.json             every session's counters, by month (see index.py)
    sessions/<id>/session.json    one session's title, meta and counters
    sessions/<id>/messages-0000.json   messages 1-256, then -0001 for 257-512, ...
    media/ab/abcdef….jpg          photos and recordings, named by sha256

Reads take no lock: every file is replaced atomically, so a reader sees a whole old or a
whole new file. Writes hold the lock only for their few milliseconds of file work; callers
must not hold a store call open across a network request, and the API offers no way to.
The one lock meant to span network calls, ``sync_lock``, is a separate file that no write
waits for.

Exactly once: a pending question is claimed (a lease naming this process, with an expiry)
before it is sent, so a sync never sends a question an ``ask`` is streaming; storing an
answered reply closes its question in the same locked write; and ``claim`` closes, instead
of returning, a question that already has an answer (a crash between the two writes).
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from omar_cli.atomic import remove_stray_temp_files
from omar_cli.clock import utc_now
from omar_cli.errors import NotFoundError, StoreError
from omar_cli.i18n import _
from omar_cli.store import drafts
from omar_cli.store.bulk import StoreBulk
from omar_cli.store.ids import is_session_id, new_session_id, parse_message_id
from omar_cli.store.index import INDEX_DIR, IndexRead, SessionIndex, month_of
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
    remove_finished_backup,
)
from omar_cli.store.model import (
    DamagedSession,
    Lease,
    MediaRef,
    Message,
    Review,
    Role,
    Session,
    Status,
)
from omar_cli.store.queries import StoreQueries, session_from_doc
from omar_cli.store.record import check, iso, to_doc
from omar_cli.store.session_files import (
    SessionFiles,
    chunk_name,
    count_message,
    new_session_doc,
    next_seq,
)
from omar_cli.store.storage import fsync_dir

#: how long a claimed question stays with its process if that process cannot be checked
LEASE = timedelta(minutes=15)

Clock = Callable[[], datetime]


class SessionStore(StoreQueries, StoreBulk):
    def __init__(
        self,
        root: Path,
        *,
        clock: Clock = utc_now,
        lock_timeout: float = 30.0,
        migrations: Sequence[Migration] = MIGRATIONS,
        redact: Sequence[str] = (),
    ) -> None:
        self.root = Path(root)
        self._clock = clock
        self._migrations = tuple(migrations)
        self._lock_timeout = lock_timeout
        self._lock = StoreLock(self.root)
        self._sync = StoreLock(self.root, SYNC_LOCK)
        self._sessions_dir = self.root / SESSIONS_DIR
        self._media = MediaFiles(self.root / MEDIA_DIR)
        self._index = SessionIndex(self.root, self._sessions_dir)
        # Secrets (the API key) an answer might echo: stored masked, never as given.
        self._redact = tuple(s for s in redact if len(s) >= 8)
        #: who holds the leases this store takes: this host and process
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        latest = check_migrations(self._migrations)
        version, _applied = read_schema(self.root)
        refuse_newer(self.root, version, latest)
        self._ready = version == latest
        self._swept = False  # stray temp files removed (once per instance, at a write)
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
            if not self._swept:
                # Under the lock no writer is mid-file: any temp file is a killed one's.
                remove_stray_temp_files(self.root)
                remove_stray_temp_files(self.root / INDEX_DIR)
                remove_finished_backup(self.root)
                self._swept = True
            yield

    def _ensure_ready(self) -> None:
        with self._writing():
            pass

    def _files(self, session_id: str) -> SessionFiles:
        if not is_session_id(session_id):
            raise NotFoundError(
                _("no session {id}").format(id=repr(session_id)),
                hint=_("Session ids look like 20261125-123501-3f9a; `omar sessions` lists them."),
            )
        return SessionFiles(self._sessions_dir, session_id)

    def _locked_state(self, files: SessionFiles) -> dict[str, Any]:
        """The session's counters for a write; call with the write lock held."""
        remove_stray_temp_files(files.dir)
        if not files.state_path.exists():
            self._rebuild_locked(files)  # a lost session file, recounted from its messages
        return files.verified_state()

    def _read(self, months: Sequence[str] | None = None) -> IndexRead:
        return self._index.read(months=months, rebuild=self._rebuild_state, locked=self._short_lock)

    @contextmanager
    def _short_lock(self) -> Iterator[None]:
        # Index repairs are a courtesy of readers: never make a reader wait long for one.
        with StoreLock(self.root).held(0.5):
            yield

    def _rebuild_state(self, files: SessionFiles) -> dict[str, Any] | None:
        if not files.chunk_indexes():
            return None  # a folder whose session file never got written (crash at creation)
        # Called by readers: a busy lock makes this read name the session as damaged.
        with self._short_lock():
            return self._rebuild_locked(files)

    def _rebuild_locked(self, files: SessionFiles) -> dict[str, Any] | None:
        if files.state_path.exists():
            return files.read_state()
        first = next(files.iter_from(1), None)
        if first is None:
            return None
        created = first[1]["created_at"]
        files.create_state(new_session_doc(files.id, created, None, {"rebuilt": True}))
        state = files.recount(files.state())  # syncs the folder
        self._index.put(state)
        return state

    def _set_recent(self, session_id: str) -> None:
        # A pointer only: rewritten whole (so a damaged one heals), and only when it changes.
        if drafts.read_pointer(self.root) != session_id:
            # Derived (see recent_session): failing to write it must not fail the write
            # that was just stored.
            with contextlib.suppress(StoreError):
                drafts.write_pointer(self.root, session_id)

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
                    _("cannot create {folder}: {reason}").format(
                        folder=files.dir, reason=exc.strerror or exc
                    ),
                    hint=_("Check that the data folder is writable."),
                ) from exc
            break
        else:
            raise StoreError(_("could not find a free session id"), hint=_("Try again."))
        files.sync()
        fsync_dir(self._sessions_dir)
        self._index.put(state)
        self._set_recent(files.id)
        return session_from_doc(state)

    def get_session(self, session_id: str) -> Session:
        files = self._files(session_id)
        if not files.state_path.exists():
            self._rebuild_state(files)
        return session_from_doc(files.state())

    def recent_session(self, within: timedelta) -> Session | None:
        """The session last written to, if that was within ``within``."""
        session_id = drafts.read_pointer(self.root)
        if session_id is None:
            # No pointer, or a damaged one: it is derived, so derive it from the index.
            states = self._read().states
            if not states:
                return None
            session_id = max(states, key=lambda s: (s["updated_at"], s["id"]))["id"]
        try:
            state = SessionFiles(self._sessions_dir, session_id).read_state()
        except StoreError:
            return None  # that session is damaged: start a new one rather than fail
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
        """Newest activity first, from the index; a damaged session is left out."""
        sessions = [session_from_doc(state) for state in self._read().states]
        sessions.sort(key=lambda s: (s.updated_at, s.id), reverse=True)
        return sessions if limit is None else sessions[:limit]

    # -- messages ---------------------------------------------------------------------

    def add_message(
        self, session_id: str, role: str, text: str, *, status: str, **fields: Any
    ) -> Message:
        """Append a message; ``fields`` are any other ``Message`` fields (ValueError if not).

        An answer gets a pending review. A pending question is leased to this process until
        it is answered, unless ``lease`` is given (None: free for any sync to send). An
        ``answered`` reply closes the question it answers in the same locked write.
        """
        now = self._now()
        draft = drafts.draft(session_id, role, text, status, now, fields)
        if draft.role == Role.ASSISTANT and draft.review is None:
            draft = replace(draft, review=Review())
        if draft.role == Role.USER and draft.status == Status.PENDING and "lease" not in fields:
            draft = replace(draft, lease=Lease(self.owner, now + LEASE))
        for sha256 in draft.media:
            check_sha256(sha256)
        closes = drafts.closes(draft, session_id)
        doc = drafts.redacted(self._redact, to_doc(draft))
        with drafts.saying_what_was_lost(drafts.unsaved(draft)), self._writing():
            files = self._files(session_id)
            state = self._locked_state(files)
            seq, rev = next_seq(state), state["rev"] + 1
            doc["rev"] = rev
            count_message(state, seq, doc, 1)
            state.update(message_count=state["message_count"] + 1, next_seq=seq + 1, rev=rev)
            state.update(last_write=seq, updated_at=doc["created_at"])
            writes = {seq: doc}
            question = files.get(closes) if closes is not None else None
            if closes is not None and question is not None and question["status"] == "pending":
                closed = {**question, "status": "answered", "error": None, "lease": None}
                closed.update(updated_at=doc["created_at"], rev=rev)
                count_message(state, closes, question, -1)
                count_message(state, closes, closed, 1)
                writes[closes] = closed
                state["last_write"] = closes  # written last: see session_files.py
            # Session file first, then the chunks: see session_files.py for the recovery.
            files.write_state(state)
            files.write_docs(writes)
            files.sync()
            self._index.put(state, [files.chunk_path(s) for s in writes])
            self._set_recent(session_id)
        return drafts.message_from(session_id, seq, doc)

    def update_message(self, message_id: str, **changes: Any) -> Message:
        """Change the given fields only (None clears an optional one).

        A new ``status`` ends the question's lease unless ``lease`` is given too.
        """
        session_id, seq = parse_message_id(message_id)
        if "status" in changes and "lease" not in changes:
            changes["lease"] = None
        with (
            drafts.saying_what_was_lost(f"message {message_id} was left as it was"),
            self._writing(),
        ):
            files = self._files(session_id)
            state = self._locked_state(files)
            old = files.get(seq)
            if old is None:
                raise NotFoundError(_("no message {id}").format(id=repr(message_id)))
            current = drafts.message_from(session_id, seq, old)
            try:
                updated = check(replace(current, **changes, updated_at=current.updated_at))
            except TypeError as exc:
                raise ValueError(f"not a message field: {exc}") from None
            if updated == current:
                return current  # nothing to change (the answer closed it): no write, no wait
            updated = replace(updated, updated_at=self._now())
            rev = state["rev"] + 1
            new = {**drafts.redacted(self._redact, to_doc(updated)), "rev": rev}
            count_message(state, seq, old, -1)
            count_message(state, seq, new, 1)
            state.update(rev=rev, last_write=seq)
            files.write_state(state)
            files.write_docs({seq: new})
            files.sync()
            self._index.put(state, [files.chunk_path(seq)])
        return drafts.message_from(session_id, seq, new)

    def get_message(self, message_id: str) -> Message:
        session_id, seq = parse_message_id(message_id)
        doc = self._files(session_id).get(seq)
        if doc is None:
            raise NotFoundError(_("no message {id}").format(id=repr(message_id)))
        return drafts.message_from(session_id, seq, doc)

    def messages(
        self, session_id: str, *, damaged: list[DamagedSession] | None = None
    ) -> list[Message]:
        """The session's messages in order; StoreError when one file cannot be read.

        With a ``damaged`` list, an unreadable message file is skipped and named there
        instead, so the rest of the session can still be shown.
        """
        files = self._files(session_id)
        state = files.state()
        if damaged is None:
            return list(files.iter_records(state))
        found: list[Message] = []
        for index in files.chunk_indexes():
            try:
                found.extend(list(files.chunk_messages(index)))
            except StoreError as exc:
                path = files.dir / chunk_name(index)
                damaged.append(DamagedSession(session_id, path, exc.message, exc.hint))
        return found

    def latest_messages(self, session_id: str, before_seq: int | None = None) -> Iterator[Message]:
        """The session's messages newest first (before ``before_seq``), one chunk at a time."""
        for seq, doc in self._files(session_id).iter_backwards(before_seq):
            yield drafts.message_from(session_id, seq, doc)

    def claim(self, question_id: str) -> Message | None:
        """Lease a pending question to this process for sending; None when it must not be.

        None when it is no longer pending, another live process holds it, or it already has
        an answered reply (then it is closed here instead: a crash came between the two).
        """
        session_id, seq = parse_message_id(question_id)
        with self._writing():
            files = self._files(session_id)
            self._locked_state(files)
            doc = files.get(seq)
            if doc is None or doc["status"] != "pending" or doc["role"] != "user":
                return None
            question = drafts.message_from(session_id, seq, doc)
            if drafts.held_elsewhere(question.lease, self.owner, self._now()):
                return None
            answered = drafts.has_answered_reply(files, question.id, seq)
            lease = Lease(self.owner, self._now() + LEASE)
        if answered:
            self.update_message(question_id, status="answered", error=None)
            return None
        return self.update_message(question_id, lease=lease)

    @contextmanager
    def sync_lock(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the store's sync lock: at most one process at a time sends pending questions.

        Meant to span network calls, so it is not the write lock: every store method,
        writes included, works meanwhile, from this process and from others.
        """
        with self._sync.held(timeout):
            yield

    # -- media and maintenance -------------------------------------------------------

    def add_media(self, data: bytes, suffix: str) -> MediaRef:
        self._ensure_ready()  # the media write itself needs no lock (see media.py)
        return self._media.add(data, suffix)

    def media_path(self, sha256: str) -> Path:
        return self._media.path(sha256)


__all__ = ["LEASE", "SessionStore", "month_of"]
