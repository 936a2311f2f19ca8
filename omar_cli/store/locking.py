"""The inter-process locks of the store: one for every write, one for a whole sync.

The write lock serialises every read-modify-write of the store. It is a single store-wide
lock rather than one per session: every locked section is a few milliseconds of file work
(never a network call), technicians run a handful of ``omar`` processes at most, and one
lock keeps migrations, session creation and the "most recent session" pointer simple to
reason about.

The sync lock is held for the whole of an ``omar sync``, network calls included, so two
syncs never send the same pending question twice. It is a separate file, so holding it
never blocks the write lock: ``omar ask`` keeps working while a sync runs.

``filelock`` uses fcntl on POSIX and msvcrt on Windows, and the OS drops a lock when its
process dies, so a crash cannot wedge the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from omar_cli.errors import StoreError
from omar_cli.i18n import N_, _


@dataclass(frozen=True)
class LockKind:
    file_name: str
    busy: str  # the timeout message; {root} and {timeout} are filled in
    hint: str


WRITE_LOCK = LockKind(
    ".lock",
    N_("the session store {root} stayed locked for {timeout:g} s"),
    N_("Another omar command is writing to it; try again when it finishes."),
)
SYNC_LOCK = LockKind(
    ".sync.lock",
    N_("another omar sync kept the session store {root} busy for {timeout:g} s"),
    N_("Wait for the other sync to finish; run omar sync again if questions are left."),
)
#: field-knowledge.json beside the store (omar_cli/field_knowledge.py)
FIELD_LOCK = LockKind(
    "field-knowledge.lock",
    N_("the field knowledge in {root} stayed locked for {timeout:g} s"),
    N_("Another omar command is updating it; try again when it finishes."),
)
LOCK_NAME = WRITE_LOCK.file_name


class LockTimeout(StoreError):
    """The lock stayed busy; the message says what the caller had not stored yet."""


class StoreLock:
    """One lock file; reentrant within a thread, exclusive across threads and processes."""

    def __init__(self, root: Path, kind: LockKind = WRITE_LOCK) -> None:
        self.path = root / kind.file_name
        self.kind = kind
        # Created on first use: building it needs nothing on disk, but keep opening cheap.
        self._lock: FileLock | None = None

    @contextmanager
    def held(self, timeout: float | None) -> Iterator[None]:
        """Hold the lock, waiting up to ``timeout`` seconds for it; None waits for good."""
        if self._lock is None:
            self._lock = FileLock(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Polled often: each hold is a few milliseconds, and filelock's default 50 ms
            # poll leaves the lock idle between holders when dozens of asks queue up.
            self._lock.acquire(timeout=-1 if timeout is None else timeout, poll_interval=0.005)
        except Timeout as exc:
            raise LockTimeout(
                _(self.kind.busy).format(root=self.path.parent, timeout=timeout),
                hint=_(self.kind.hint),
            ) from exc
        except OSError as exc:
            raise StoreError(
                _("cannot lock the session store ({path}): {reason}").format(
                    path=self.path, reason=exc.strerror or exc
                ),
                hint=_("Check that the folder exists and is writable."),
            ) from exc
        try:
            yield
        finally:
            self._lock.release()
