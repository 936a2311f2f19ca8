"""Crash-safe file replacement, shared by the store, the user library and the config file.

Every write goes to a temporary file in the same directory, is flushed and fsynced, then
renamed over the old one with ``os.replace`` (atomic on POSIX and Windows), and the directory
is fsynced so the rename itself survives a power cut. A crash (even kill -9) before the
rename leaves the previous file untouched. Temp files are created 0600: user data passes
through here. Raises OSError; callers turn it into their own OmarError.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

# How long a rename may keep failing on Windows, where a reader that has the target open
# makes os.replace raise PermissionError for a moment.
_REPLACE_RETRY_SECONDS = 2.0


def atomic_write_bytes(
    path: Path, data: bytes, *, durable: bool = True, sync_dir: bool = True
) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, whole.

    ``durable=False`` skips the fsyncs, for derived files that are rebuilt when a power
    cut leaves them damaged: the rename still keeps readers from a half-written file.
    ``sync_dir=False`` leaves the directory's fsync to the caller, who writes several files
    there and makes all their renames durable with one ``fsync_dir``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        _replace(tmp, path)
    except BaseException:
        # BaseException too: a Ctrl-C mid-write must not leave temp files behind.
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable and sync_dir:
        fsync_dir(path.parent)


def remove_stray_temp_files(folder: Path, older_than: float = 0.0) -> int:
    """Delete the temp files a killed writer left in ``folder``; how many were removed.

    Call it where no writer can be active (under the lock that guards the folder), or with
    ``older_than`` seconds so a write in progress elsewhere is left alone.
    """
    removed = 0
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not (entry.name.startswith(".") and entry.name.endswith(".tmp")):
            continue
        try:
            if older_than and now - entry.stat().st_mtime < older_than:
                continue
            os.unlink(entry.path)
            removed += 1
        except OSError:
            continue
    return removed


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable; a no-op where unsupported."""
    if sys.platform == "win32":
        return  # Windows cannot open a directory; NTFS journals the rename itself.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (network shares) refuse fsync on directories
    finally:
        os.close(fd)


def _replace(src: str, dst: Path) -> None:
    deadline = time.monotonic() + _REPLACE_RETRY_SECONDS
    while True:
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if sys.platform != "win32" or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def append_private(path: Path, text: str) -> None:
    """Append ``text`` to a log file of the user's, created 0600, never through a symlink.

    A symlink planted where the log goes would make every error line land in a file of
    the attacker's choosing; O_NOFOLLOW refuses it (OSError) instead. Where the OS has no
    O_NOFOLLOW (Windows) the link is checked just before, which leaves a small race.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    if not nofollow and path.is_symlink():
        raise OSError(f"{path} is a symbolic link")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | nofollow, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(text)
