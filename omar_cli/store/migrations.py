"""Schema version and ordered, named migrations of the on-disk layout.

``meta.json`` records the version and each migration applied, with its time. Migrations run
in version order under the store lock, and each one is recorded as soon as it has run, so a
crash part-way resumes with the next one. A crash between a migration and its record runs
it again, so every migration must be idempotent.

An upgrade of a store that holds data first copies its files to ``upgrade-backup/``
(complete before anything is changed, published by a rename) and removes that copy only
once the last migration is recorded: a crash part-way leaves the originals beside the
half-upgraded store, and the next run resumes from the recorded version.

The version is never guessed: only an absent ``meta.json`` (or one whose schema table is
still empty, as a kill during the first write of older versions left it) in a store that
holds no sessions or media is version 0. A ``meta.json`` of any other shape, or sessions
without one, is a StoreError, and nothing is rewritten: running migrations from 0 on a store
of unknown version could damage it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from omar_cli.errors import StoreError
from omar_cli.i18n import N_, _
from omar_cli.store.record import iso
from omar_cli.store.session_files import SessionFiles, upgrade_state
from omar_cli.store.storage import corrupt_error, read_json, write_json_atomic

META_FILE = "meta.json"
SESSIONS_DIR = "sessions"
MEDIA_DIR = "media"
BACKUP_DIR = "upgrade-backup"
_TABLE = "schema"
_META_HINT = N_(
    "{file} records the store's schema version, and OMAR never guesses or rewrites "
    "it: restore it from a backup, or move the whole store folder aside to start afresh."
)


def _meta_hint() -> str:
    return _(_META_HINT).format(file=META_FILE)


@dataclass(frozen=True)
class Migration:
    version: int  # 1, 2, 3 ... with no gaps
    name: str  # short and stable, e.g. "initial-layout"; recorded in meta.json
    apply: Callable[[Path], None]  # receives the store root


def _initial_layout(root: Path) -> None:
    (root / SESSIONS_DIR).mkdir(parents=True, exist_ok=True)
    (root / MEDIA_DIR).mkdir(parents=True, exist_ok=True)


def _upgrade_message(doc: dict[str, Any]) -> dict[str, Any]:
    """A schema-1 message in the schema-2 shape; a schema-2 one is returned unchanged.

    What produced an answer moves out of ``meta`` into ``provenance``, the appended safety
    note is told apart from the model's words, and every answer gets a review state.
    """
    if doc.get("role") != "assistant":
        return doc
    meta = dict(doc.get("meta") or {})
    provenance = dict(doc.get("provenance") or {})
    for key in ("prompt_version", "finish_reason"):
        if key in meta:
            provenance.setdefault(key, meta.pop(key))
    if meta.pop("safety_appended", False):
        model_text, mark, note = doc["text"].rpartition("\n\n⚠ ")
        if mark:
            provenance.setdefault("model_text", model_text)
            provenance.setdefault("safety_note", note)
    upgraded = {**doc, "meta": meta, "review": doc.get("review") or {"state": "pending"}}
    if provenance:
        upgraded["provenance"] = provenance
    return upgraded


def _message_record_v2(root: Path) -> None:
    sessions = root / SESSIONS_DIR
    names = sorted(e.name for e in os.scandir(sessions) if e.is_dir()) if sessions.is_dir() else []
    for name in names:
        files = SessionFiles(sessions, name)
        if not files.state_path.exists():
            continue  # rebuilt from its chunks when next read (see store.py)
        for index in files.chunk_indexes():
            docs = {doc.doc_id: dict(doc) for doc in files.chunk_table(index).all()}
            upgraded = {seq: _upgrade_message(doc) for seq, doc in docs.items()}
            if upgraded != docs:
                files.write_docs(upgraded)  # one write per chunk, not one per message
        files.sync()
        state = files.read_state()
        if state is not None:
            files.recount(upgrade_state(state))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial-layout", _initial_layout),
    Migration(2, "message-record-v2", _message_record_v2),
)


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
    data = read_json(path, corrupt_hint=_meta_hint())
    if data is None:
        if _holds_data(root):
            raise StoreError(
                _("the session store holds data but {path} is missing").format(path=path),
                _meta_hint(),
            )
        return 0, []
    doc = data.get(_TABLE, {}).get("1")
    if doc is None and not _holds_data(root):
        return 0, []  # the first write was cut before the record: start afresh
    doc = doc or {}
    version, applied = doc.get("schema_version"), doc.get("applied")
    if type(version) is not int or version < 1:  # bool is an int too
        raise corrupt_error(path, _("no valid schema_version"), _meta_hint())
    if not isinstance(applied, list):
        raise corrupt_error(path, _("no list of applied migrations"), _meta_hint())
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
            raise StoreError(
                _("cannot list {folder}: {reason}").format(
                    folder=folder, reason=exc.strerror or exc
                )
            ) from exc
    return False


def refuse_newer(root: Path, version: int, latest: int) -> None:
    if version > latest:
        raise StoreError(
            _(
                "the session store {root} has schema version {version}, but this omar "
                "only understands up to {latest}"
            ).format(root=root, version=version, latest=latest),
            hint=_("A newer omar wrote it: upgrade omar, or use a different data folder."),
        )


def apply_pending(
    root: Path, migrations: Sequence[Migration], now: Callable[[], datetime]
) -> list[str]:
    """Run the migrations the store has not had yet; call with the store lock held."""
    latest = check_migrations(migrations)
    version, applied = read_schema(root)
    refuse_newer(root, version, latest)
    if version == latest:
        return []
    if version > 0:
        _back_up(root)
    done: list[str] = []
    for migration in migrations[version:]:
        migration.apply(root)
        applied.append(
            {"version": migration.version, "name": migration.name, "applied_at": iso(now())}
        )
        record = {"schema_version": migration.version, "applied": applied}
        # One whole-file write: the record is either there or the file is as before.
        write_json_atomic(root / META_FILE, {_TABLE: {"1": record}})
        done.append(migration.name)
    shutil.rmtree(root / BACKUP_DIR, ignore_errors=True)
    return done


def _back_up(root: Path) -> None:
    """Copy the store's files aside, unless a crashed upgrade already left a full copy."""
    backup = root / BACKUP_DIR
    if backup.is_dir():
        return  # the originals from before the interrupted upgrade: keep those
    partial = root / f"{BACKUP_DIR}.tmp"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        partial.mkdir()
        if (root / SESSIONS_DIR).is_dir():
            shutil.copytree(root / SESSIONS_DIR, partial / SESSIONS_DIR)
        for name in (META_FILE, "state.json"):
            if (root / name).is_file():
                shutil.copy2(root / name, partial / name)
        os.replace(partial, backup)
    except OSError as exc:
        raise StoreError(
            _("cannot copy the session store aside before upgrading it: {error}").format(error=exc),
            hint=_("Check free disk space: the upgrade needs room for one copy of the store."),
        ) from exc


def remove_finished_backup(root: Path) -> None:
    """The copy an upgrade left when it was stopped after its last record; call when ready."""
    if (root / BACKUP_DIR).is_dir():
        shutil.rmtree(root / BACKUP_DIR, ignore_errors=True)
