"""The one inter-process lock that serialises every read-modify-write of the store.

A single store-wide lock rather than one per session: every locked section is a few
milliseconds of file work (never a network call), technicians run a handful of ``omar``
processes at most, and one lock keeps migrations, session creation and the "most recent
session" pointer simple to reason about. ``filelock`` uses fcntl on POSIX and msvcrt on
Windows, and the OS drops the lock when a process dies, so a crash cannot wedge the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from omar_cli.errors import StoreError

LOCK_NAME = ".lock"


class StoreLock:
    def __init__(self, root: Path, timeout: float) -> None:
        self.path = root / LOCK_NAME
        self.timeout = timeout
        # Created on first use: building it needs nothing on disk, but keep opening cheap.
        self._lock: FileLock | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        if self._lock is None:
            self._lock = FileLock(self.path, timeout=self.timeout)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except Timeout as exc:
            raise StoreError(
                f"the session store {self.path.parent} stayed locked for {self.timeout:g} s",
                hint="Another omar command is writing to it; try again when it finishes.",
            ) from exc
        except OSError as exc:
            raise StoreError(
                f"cannot lock the session store ({self.path}): {exc.strerror or exc}",
                hint="Check that the folder exists and is writable.",
            ) from exc
        try:
            yield
        finally:
            self._lock.release()
