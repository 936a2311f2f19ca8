"""Whole-session writes for `omar review`: merging imported sessions, deleting, pruning media.

``StoreBulk`` is a part of ``SessionStore`` (like ``StoreQueries``). An import writes like an
add: under the write lock, counters first, then the chunks, naming the last message written
so a crash in between is recounted (see session_files.py). A deletion renames the session
folder aside before removing it, so a crash leaves either the whole session or none of it
among the sessions the store reads.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

from omar_cli.errors import StoreError
from omar_cli.store.index import SessionIndex
from omar_cli.store.media import MediaFiles
from omar_cli.store.model import Message
from omar_cli.store.record import iso, to_doc
from omar_cli.store.session_files import SessionFiles, count_message, new_session_doc, next_seq

#: how old an unreferenced media file must be before it is removed
MEDIA_GRACE_S = 600.0
#: a session folder being deleted is renamed to this prefix first, so no read sees it
_TRASH = ".deleting-"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("inf")  # gone already, or unreadable: leave it alone


class StoreBulk:
    """Plumbing provided by ``SessionStore``."""

    root: Path
    _index: SessionIndex
    _media: MediaFiles
    _sessions_dir: Path

    def _writing(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _files(self, session_id: str) -> SessionFiles:
        raise NotImplementedError

    def _locked_state(self, files: SessionFiles) -> dict[str, Any]:
        raise NotImplementedError

    def merge_session(
        self,
        session_id: str,
        created_at: datetime,
        title: str | None,
        meta: dict[str, Any],
        messages: Sequence[Message],
    ) -> list[int]:
        """Add the session under its own id if absent, and the messages whose seq it lacks.

        Messages it holds already are left as they are (the caller compares and updates
        reviews with ``update_message``). Returns the seqs added.
        """
        with self._writing():
            files = self._files(session_id)
            if not files.dir.exists():
                state = new_session_doc(session_id, iso(created_at), title, meta)
                files.create(state)
                files.sync()
            state = self._locked_state(files)
            writes: dict[int, dict[str, Any]] = {}
            rev = state["rev"] + 1
            for m in sorted(messages, key=lambda m: m.seq):
                if m.seq in writes or files.get(m.seq) is not None:
                    continue
                doc = {**to_doc(m), "rev": rev}
                count_message(state, m.seq, doc, 1)
                state["message_count"] += 1
                state["updated_at"] = max(state["updated_at"], doc["created_at"])
                writes[m.seq] = doc
            if not writes:
                return []
            last = max(writes)
            state.update(rev=rev, last_write=last, next_seq=max(next_seq(state), last + 1))
            files.write_state(state)
            files.write_docs(dict(sorted(writes.items())))
            files.sync()
            self._index.put(state, [files.chunk_path(s) for s in writes])
        return sorted(writes)

    def delete_session(self, session_id: str) -> None:
        """Remove a session and all its messages (its media stays: see ``prune_media``)."""
        with self._writing():
            self._empty_trash()
            files = self._files(session_id)
            if not files.dir.exists():
                return
            trash = self._sessions_dir / f"{_TRASH}{session_id}"
            try:
                os.replace(files.dir, trash)  # not a session id: no read sees it from now on
            except OSError as exc:
                raise StoreError(
                    f"cannot delete {files.dir}: {exc.strerror or exc}",
                    hint="Check that the data folder is writable.",
                ) from exc
            self._index.drop(session_id)
            shutil.rmtree(trash, ignore_errors=True)

    def _empty_trash(self) -> None:
        """Finish deletions a killed `review rm` left half done (renamed, not yet removed)."""
        try:
            found = os.scandir(self._sessions_dir)
            leftovers = [e.path for e in found if e.name.startswith(_TRASH)]
        except FileNotFoundError:
            return
        for path in leftovers:
            shutil.rmtree(path, ignore_errors=True)

    def media_in_use(self) -> set[str]:
        """The sha256 of every media file some stored message still refers to."""
        used: set[str] = set()
        for folder in self._session_folders():
            files = SessionFiles(self._sessions_dir, folder)
            for index in files.chunk_indexes():
                for _seq, doc in files.chunk_items(index):
                    used.update(doc.get("media") or ())
                    used.update((doc.get("meta") or {}).get("original_media") or ())
        return used

    def prune_media(self, grace_s: float = MEDIA_GRACE_S) -> list[str]:
        """Remove media no stored message refers to; the sha256 of those removed.

        A file written in the last ``grace_s`` seconds is kept: media is stored before the
        message that refers to it (without the lock), so a photo another command is asking
        about right now would otherwise look unreferenced.
        """
        with self._writing():
            used = self.media_in_use()
            removed = []
            recent = time.time() - grace_s
            for path in self._media_files():
                sha256 = path.name.split(".", 1)[0]
                if sha256 not in used and _mtime(path) < recent:
                    path.unlink(missing_ok=True)
                    removed.append(sha256)
        return removed

    def _session_folders(self) -> Iterator[str]:
        from omar_cli.store.ids import is_session_id

        try:
            names = [e.name for e in os.scandir(self._sessions_dir)]
        except FileNotFoundError:
            return
        yield from sorted(n for n in names if is_session_id(n))

    def _media_files(self) -> Iterator[Path]:
        if not self._media.dir.is_dir():
            return
        for folder in sorted(self._media.dir.iterdir()):
            if folder.is_dir():
                yield from sorted(p for p in folder.iterdir() if not p.name.endswith(".tmp"))
