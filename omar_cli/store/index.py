"""The cross-session index: every session's counters, in one small file per month.

``index/202611.json`` holds a copy of the ``session.json`` of each session created in
November 2026 (a TinyDB table, one document per session), plus the stamp of that file and
of the message files the store wrote, to notice changes made behind its back.
Queries across sessions (status, the session list, pending questions, review state, codes,
dates) read these few files instead of one file per session, and an append rewrites only
its month's file, so its cost does not grow with the years of history.

The index is derived: ``session.json`` files are the truth. It is written after them, under
the same write lock, without fsync (a power cut can only cost a rebuild). A month file that
is missing, damaged, or does not list exactly the session folders of its month is rebuilt
from those folders on the next read. A folder whose ``session.json`` is missing but whose
messages are there is recounted from its chunks (see ``SessionStore``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinydb import Query

from omar_cli.errors import StoreError
from omar_cli.i18n import _
from omar_cli.store.ids import is_session_id
from omar_cli.store.model import DamagedSession
from omar_cli.store.session_files import SESSION_FILE, SessionFiles, chunk_name
from omar_cli.store.storage import open_db, read_json, write_json_atomic

INDEX_DIR = "index"
_TABLE = "sessions"

Doc = dict[str, Any]
#: rebuilds a session file lost from a folder that still holds messages; None when it cannot
Rebuild = Callable[[SessionFiles], Doc | None]


@dataclass
class IndexRead:
    """What one pass over the index found."""

    states: list[Doc] = field(default_factory=list)
    damaged: list[DamagedSession] = field(default_factory=list)


def month_of(session_id: str) -> str:
    return session_id[:6]  # ids start with the creation date: 20261125-…


def index_doc(state: Mapping[str, Any]) -> Doc:
    return dict(state)


class SessionIndex:
    def __init__(self, root: Path, sessions_dir: Path) -> None:
        self.dir = root / INDEX_DIR
        self._sessions_dir = sessions_dir
        self._folder = f"{sessions_dir}{os.sep}"

    def _path(self, month: str) -> Path:
        return self.dir / f"{month}.json"

    def put(self, state: Mapping[str, Any], chunks: Iterable[Path] = ()) -> None:
        """Record one session's counters; call with the write lock held, after its files.

        ``chunks``: the message files just written, whose size and time are noted so that a
        later change by anything else (damage) is noticed by ``damaged_chunks``.
        """
        path = self._path(month_of(state["id"]))
        doc = {**index_doc(state), "stamp": self._stamp_of(state["id"])}
        try:
            table = open_db(path, durable=False).table(_TABLE)
            old = table.get(Query().id == state["id"])
            noted = dict(old.get("chunks", {})) if isinstance(old, dict) else {}
            noted.update({chunk.name: _stamp(chunk) for chunk in chunks})
            table.upsert({**doc, "chunks": noted}, Query().id == state["id"])
        except StoreError:
            # A damaged (or unwritable) month file is rebuilt from the session files at
            # the next read; the message itself is stored already, so this never fails it.
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)

    def drop(self, session_id: str) -> None:
        """Forget a deleted session; call with the write lock held, after its folder went."""
        path = self._path(month_of(session_id))
        try:
            open_db(path, durable=False).table(_TABLE).remove(Query().id == session_id)
        except StoreError:
            with contextlib.suppress(OSError):  # rebuilt from the folders at the next read
                path.unlink(missing_ok=True)

    def read(
        self,
        *,
        months: Iterable[str] | None = None,
        rebuild: Rebuild,
        locked: Callable[[], AbstractContextManager[None]],
    ) -> IndexRead:
        """Every session's counters (of ``months`` only, if given), healing stale months."""
        found = IndexRead()
        by_month = self._folders_by_month()
        wanted = sorted(by_month if months is None else set(months) & set(by_month))
        for month in wanted:
            docs = self._read_month(month)
            if docs is None or {d.get("id") for d in docs} != by_month[month]:
                docs = self._rebuild_month(month, by_month[month], rebuild, locked)
            for doc in docs:
                if "damaged" in doc:
                    found.damaged.append(_damaged_from(doc))
                elif "empty" not in doc:
                    found.states.append(doc)
        return found

    def _folders_by_month(self) -> dict[str, set[str]]:
        try:
            names = [e.name for e in os.scandir(self._sessions_dir)]
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StoreError(
                _("cannot list {folder}: {reason}").format(
                    folder=self._sessions_dir, reason=exc.strerror or exc
                )
            ) from exc
        months: dict[str, set[str]] = {}
        for name in names:
            if is_session_id(name):
                months.setdefault(month_of(name), set()).add(name)
        return months

    def _read_month(self, month: str) -> list[Doc] | None:
        try:
            data = read_json(self._path(month))
        except StoreError:
            return None
        if data is None:
            return None
        docs = list(data.get(_TABLE, {}).values())
        if not all(isinstance(d.get("id"), str) for d in docs):
            return None
        # A session file changed behind the index's back (a crash between the two writes,
        # damage, a restore from backup): that month is read afresh.
        if any(d.get("stamp") != self._stamp_of(d["id"]) for d in docs):
            return None
        return docs

    def _stamp_of(self, session_id: str) -> list[int] | None:
        # Plain strings: this runs once per session on every whole-store read.
        return _stamp(f"{self._folder}{session_id}{os.sep}{SESSION_FILE}")

    def _chunk_stamps(self, session_id: str) -> dict[str, list[int] | None]:
        folder = self._sessions_dir / session_id
        files = SessionFiles(self._sessions_dir, session_id)
        return {chunk_name(i): _stamp(folder / chunk_name(i)) for i in files.chunk_indexes()}

    def size_bytes(self, states: Iterable[Mapping[str, Any]]) -> int:
        """The session files' total size, from the stamps noted at their last write."""
        total = 0
        for state in states:
            stamps = [state.get("stamp"), *(state.get("chunks") or {}).values()]
            total += sum(stamp[1] for stamp in stamps if stamp)
        return total

    def _rebuild_month(
        self,
        month: str,
        folders: set[str],
        rebuild: Rebuild,
        locked: Callable[[], AbstractContextManager[None]],
    ) -> list[Doc]:
        docs: list[Doc] = []
        for session_id in sorted(folders):
            files = SessionFiles(self._sessions_dir, session_id)
            try:
                state = files.read_state()
                if state is None:
                    state = rebuild(files)
            except StoreError as exc:
                path = str(files.state_path if files.state_path.exists() else files.dir)
                damage = {"path": path, "problem": exc.message, "hint": exc.hint}
                docs.append(
                    {"id": session_id, "damaged": damage, "stamp": self._stamp_of(session_id)}
                )
                continue
            if state is None:
                # An empty folder (a crash while creating it): noted, so the month's list
                # matches its folders and is not rebuilt at every read.
                docs.append({"id": session_id, "empty": True, "stamp": None})
                continue
            # The message files are noted as found: damage already there when the index
            # was lost is reported when that file is read, not by status.
            stamps = {"stamp": self._stamp_of(session_id), "chunks": self._chunk_stamps(session_id)}
            docs.append({**index_doc(state), **stamps})
        try:
            with locked():
                # Written whole, never read first: the old file may be the damaged one.
                table = {str(n): doc for n, doc in enumerate(docs, start=1)}
                write_json_atomic(self._path(month), {_TABLE: table}, durable=False)
        except StoreError:
            pass  # busy or unwritable: the answer stands, the next read tries again
        return docs

    def damaged_chunks(self, states: Iterable[Mapping[str, Any]]) -> list[DamagedSession]:
        """Message files changed since the store last wrote them, and no longer readable.

        Only the files noted by a write or a rebuild are checked, and only those whose
        stamp changed are read, so this costs a stat per file.
        """
        found = []
        for state in states:
            folder = f"{self._folder}{state['id']}{os.sep}"
            for name, stamp in (state.get("chunks") or {}).items():
                now = _stamp(folder + name)
                if now is None or now == stamp:
                    continue  # moved aside by the user, or as written
                problem = _unreadable(SessionFiles(self._sessions_dir, state["id"]), name)
                if problem is not None:
                    path = Path(folder + name)
                    found.append(DamagedSession(state["id"], path, problem.message, problem.hint))
        return found

    def iter_months(self) -> Iterator[str]:
        yield from sorted(self._folders_by_month())


def _stamp(path: str | Path) -> list[int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    # The inode too: every write replaces the file, so a new inode means a new version.
    return [info.st_ino, info.st_size, info.st_mtime_ns]


def _damaged_from(doc: Mapping[str, Any]) -> DamagedSession:
    damage = doc["damaged"]
    return DamagedSession(doc["id"], Path(damage["path"]), damage["problem"], damage["hint"])


def _unreadable(files: SessionFiles, chunk_file: str) -> StoreError | None:
    index = int(chunk_file.removeprefix("messages-").removesuffix(".json"))
    try:
        for _item in files.chunk_items(index):
            pass
    except StoreError as exc:
        return exc
    return None
