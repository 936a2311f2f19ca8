"""Schema version and ordered, named migrations of the on-disk layout.

``meta.json`` records the version and each migration applied, with its time. Migrations run
in version order under the store lock, and each one is recorded as soon as it has run, so a
crash part-way resumes with the next one. A crash between a migration and its record runs
it again, so every migration must be idempotent.

The version is never guessed: only an absent ``meta.json`` in a store that holds no
sessions or media is version 0 (new, or a first run that stopped before recording
migration 1). A ``meta.json`` of any other shape, or sessions without one, is a StoreError,
and nothing is rewritten: running migrations from 0 on a store of unknown version could
damage it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tinydb.table import Document

from omar_cli.errors import StoreError
from omar_cli.store.model import iso
from omar_cli.store.storage import corrupt_error, open_db, read_json

META_FILE = "meta.json"
SESSIONS_DIR = "sessions"
MEDIA_DIR = "media"
_TABLE = "schema"
_META_HINT = (
    f"{META_FILE} records the store's schema version, and OMAR never guesses or rewrites "
    "it: restore it from a backup, or move the whole store folder aside to start afresh."
)


@dataclass(frozen=True)
class Migration:
    version: int  # 1, 2, 3 ... with no gaps
    name: str  # short and stable, e.g. "initial-layout"; recorded in meta.json
    apply: Callable[[Path], None]  # receives the store root


def _initial_layout(root: Path) -> None:
    (root / SESSIONS_DIR).mkdir(parents=True, exist_ok=True)
    (root / MEDIA_DIR).mkdir(parents=True, exist_ok=True)


MIGRATIONS: tuple[Migration, ...] = (Migration(1, "initial-layout", _initial_layout),)


def check_migrations(migrations: Sequence[Migration]) -> int:
    """The version the code expects; ValueError when the list itself is malformed."""
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(migrations) + 1)):
        raise ValueError(f"migration versions must run 1, 2, 3 ... without gaps: {versions}")
    names = [m.name for m in migrations]
    if len(set(names)) != len(names):
        raise ValueError(f"migration names must be unique: {names}")
    return len(migrations)


def read_schema(root: Path) -> tuple[int, list[dict[str, Any]]]:
    """(version, applied records); (0, []) for a store that has not been written yet.

    StoreError when meta.json is damaged, or missing from a store that holds data.
    """
    path = root / META_FILE
    data = read_json(path, corrupt_hint=_META_HINT)
    if data is None:
        if _holds_data(root):
            raise StoreError(f"the session store holds data but {path} is missing", _META_HINT)
        return 0, []
    doc = data.get(_TABLE, {}).get("1") or {}
    version, applied = doc.get("schema_version"), doc.get("applied")
    if type(version) is not int or version < 1:  # bool is an int too
        raise corrupt_error(path, "no valid schema_version", _META_HINT)
    if not isinstance(applied, list):
        raise corrupt_error(path, "no list of applied migrations", _META_HINT)
    return version, applied


def _holds_data(root: Path) -> bool:
    for folder in (root / SESSIONS_DIR, root / MEDIA_DIR):
        try:
            with os.scandir(folder) as entries:
                if next(entries, None) is not None:
                    return True
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StoreError(f"cannot list {folder}: {exc.strerror or exc}") from exc
    return False


def refuse_newer(root: Path, version: int, latest: int) -> None:
    if version > latest:
        raise StoreError(
            f"the session store {root} has schema version {version}, but this omar "
            f"only understands up to {latest}",
            hint="A newer omar wrote it: upgrade omar, or use a different data folder.",
        )


def apply_pending(
    root: Path, migrations: Sequence[Migration], now: Callable[[], datetime]
) -> list[str]:
    """Run the migrations the store has not had yet; call with the store lock held."""
    latest = check_migrations(migrations)
    version, applied = read_schema(root)
    refuse_newer(root, version, latest)
    table = open_db(root / META_FILE).table(_TABLE)
    done: list[str] = []
    for migration in migrations[version:]:
        migration.apply(root)
        applied.append(
            {"version": migration.version, "name": migration.name, "applied_at": iso(now())}
        )
        record = {"schema_version": migration.version, "applied": applied}
        table.upsert(Document(record, doc_id=1))
        done.append(migration.name)
    return done
