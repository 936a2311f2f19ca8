"""A TinyDB storage that never leaves a half-written file, and never overwrites a bad one.

TinyDB's own JSONStorage truncates the file and writes in place, so a crash mid-write
leaves a torn file. Here every write goes to a temporary file in the same directory, is
flushed and fsynced, then renamed over the old one with ``os.replace`` (atomic on POSIX and
Windows), and the directory is fsynced so the rename itself survives a power cut.

Each instance also caches what it read: the store opens a fresh TinyDB per operation while
holding the inter-process lock, so within that operation the cache cannot go stale, and
TinyDB's read-before-every-write does not parse the same file twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeGuard

from tinydb import TinyDB
from tinydb.storages import Storage

from omar_cli.atomic import atomic_write_bytes, fsync_dir
from omar_cli.errors import StoreError
from omar_cli.i18n import _

__all__ = ["fsync_dir", "open_db", "write_bytes_atomic", "write_json_atomic"]


def corrupt_error(path: Path, why: str, hint: str | None = None) -> StoreError:
    return StoreError(
        _("session store file is corrupt: {path} ({why})").format(path=path, why=why),
        hint=hint
        or _(
            "Move it aside (rename it to {name}.corrupt) and run again, or start a new "
            "session with --new; OMAR never overwrites a damaged file, and other sessions "
            "are unaffected."
        ).format(name=path.name),
    )


def read_json(path: Path, corrupt_hint: str | None = None) -> dict[str, Any] | None:
    """The file's top-level object, None when absent; StoreError when it is damaged.

    ``corrupt_hint`` replaces the usual "move it aside" advice, for files that cannot be.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(
            _("cannot read {path}: {reason}").format(path=path, reason=exc.strerror or exc),
            hint=_("Check the file's permissions."),
        ) from exc
    if not raw.strip():
        # Our writes never produce an empty file, so one means damage (or a foreign tool).
        raise corrupt_error(path, _("empty file"), corrupt_hint)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise corrupt_error(
            path, _("not valid JSON: {error}").format(error=exc), corrupt_hint
        ) from exc
    if not _is_table_map(data):
        raise corrupt_error(path, _("not a TinyDB table map"), corrupt_hint)
    return data


def _is_table_map(data: object) -> TypeGuard[dict[str, Any]]:
    # Checked here because TinyDB would fail later with a bare ValueError or TypeError.
    if not isinstance(data, dict):
        return False
    for table in data.values():
        if not isinstance(table, dict):
            return False
        for doc_id, doc in table.items():
            if not (doc_id.isascii() and doc_id.isdigit() and isinstance(doc, dict)):
                return False
    return True


def _write_error(path: Path, exc: OSError) -> StoreError:
    return StoreError(
        _("cannot write {path}: {reason}").format(path=path, reason=exc.strerror or exc),
        hint=_("Check free disk space and that the folder is writable."),
    )


def write_bytes_atomic(
    path: Path, payload: bytes, *, durable: bool = True, sync_dir: bool = True
) -> None:
    """Replace ``path`` with ``payload`` so that readers see the old or the new file, whole."""
    try:
        atomic_write_bytes(path, payload, durable=durable, sync_dir=sync_dir)
    except OSError as exc:
        raise _write_error(path, exc) from exc


def write_json_atomic(
    path: Path, data: dict[str, Any], *, durable: bool = True, sync_dir: bool = True
) -> None:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    write_bytes_atomic(path, payload, durable=durable, sync_dir=sync_dir)


class AtomicJSONStorage(Storage):
    def __init__(self, path: Path, durable: bool = True, sync_dir: bool = True) -> None:
        self.path = path
        self.durable = durable
        self.sync_dir = sync_dir
        self._cache: dict[str, Any] | None = None

    def read(self) -> dict[str, Any] | None:
        if self._cache is None:
            self._cache = read_json(self.path)
        return self._cache

    def write(self, data: dict[str, Any]) -> None:
        # Forget the cache first: if the write fails, TinyDB has already mutated it.
        self._cache = None
        write_json_atomic(self.path, data, durable=self.durable, sync_dir=self.sync_dir)
        self._cache = data

    def close(self) -> None:
        self._cache = None


def open_db(path: Path, *, durable: bool = True, sync_dir: bool = True) -> TinyDB:
    """A TinyDB on one file, meant to live for one operation (see the module docstring)."""
    return TinyDB(path, storage=AtomicJSONStorage, durable=durable, sync_dir=sync_dir)
