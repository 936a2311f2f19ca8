"""The index file: what it holds, how it is built, cached, validated and pruned.

The index is a small SQLite file in the cache directory, named after a hash of the entries,
so it is rebuilt when the knowledge changes and reused otherwise. It is written to a temp
file and moved into place, so a process never sees a half-built index.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from omar_cli.knowledge import lang as language
from omar_cli.knowledge.codes import name_rows
from omar_cli.knowledge.lang import ANALYZER_SIGNATURE
from omar_cli.knowledge.model import Entry

SCHEMA_VERSION = 4  # bump when what fill stores changes
COLUMNS = ("codes", "title", "keywords", "body", "extra")
_PREFIX = "omar-index-"
_STALE_TMP_SECONDS = 3600.0


def fingerprint(entries: Iterable[Entry]) -> str:
    """Hash of everything the index file holds, including how text is analysed.

    Sources, confidence and links are left out: hits take them from the live entries.
    """
    digest = hashlib.sha256(f"{SCHEMA_VERSION}|{ANALYZER_SIGNATURE}".encode())
    for entry in entries:
        digest.update("\x1f".join(_indexed_fields(entry)).encode() + b"\x1e")
    return digest.hexdigest()


def _indexed_fields(entry: Entry) -> Iterator[str]:
    yield from (entry.id, entry.kind, entry.name, entry.hex_code or "", "\x1d", *entry.gaps)
    for key, value in entry.facts.items():
        yield from ("\x1d", key, value)
    for lang, text in entry.lang.items():
        yield from ("\x1d", lang, text.title, text.text, *text.causes, *text.checks)
        yield from ("\x1d", *text.keywords, "\x1d", text.safety or "")
        yield from ("\x1d", *(f"{k}={v}" for k, v in text.facts.items()), *text.gaps)


def fill(conn: sqlite3.Connection, digest: str, entries: Sequence[Entry]) -> None:
    names = ", ".join(COLUMNS)
    conn.executescript(
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        f"CREATE VIRTUAL TABLE docs USING fts5({names}, kind UNINDEXED,"
        " tokenize = 'unicode61 remove_diacritics 2');"
        "CREATE VIRTUAL TABLE vocab USING fts5vocab(docs, 'row');"
        "CREATE VIRTUAL TABLE vocab_inst USING fts5vocab(docs, 'instance');"
        "CREATE TABLE lang_vocab(word TEXT PRIMARY KEY, lean REAL NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE names(phrase TEXT NOT NULL, id TEXT NOT NULL);"
    )
    texts = [language.entry_texts(e) for e in entries]
    with conn:
        conn.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (digest,))
        conn.executemany(
            f"INSERT INTO docs(rowid, {names}, kind) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((row, *language.entry_columns(e), e.kind) for row, e in enumerate(entries)),
        )
        conn.executemany(
            "INSERT INTO lang_vocab VALUES (?, ?)", language.language_vocabulary(texts).items()
        )
        conn.executemany("INSERT INTO names VALUES (?, ?)", name_rows(entries))


def cached(
    cache_dir: Path, digest: str, entries: Sequence[Entry]
) -> tuple[sqlite3.Connection, Path] | None:
    """Open the index file for ``digest``, building it first if needed; None if unwritable."""
    path = cache_dir / f"{_PREFIX}{digest[:32]}.sqlite"
    conn = _open_valid(path, digest)
    if conn is not None:
        return conn, path
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{_PREFIX}", suffix=".tmp", dir=cache_dir)
        os.close(fd)
    except OSError:
        return None
    tmp = Path(tmp_name)
    try:
        conn = sqlite3.connect(tmp)
        try:
            fill(conn, digest, entries)
        finally:
            conn.close()
        os.replace(tmp, path)
    except (OSError, sqlite3.Error):
        tmp.unlink(missing_ok=True)
        return None
    _prune(cache_dir, keep=path)
    conn = _open_valid(path, digest)
    return (conn, path) if conn is not None else None


def _connect_ro(path: Path) -> sqlite3.Connection | None:
    try:
        # read-only and serialized by SQLite: safe to search from a worker thread
        uri = f"{path.resolve().as_uri()}?mode=ro"
        return sqlite3.connect(uri, uri=True, check_same_thread=False)
    except sqlite3.Error:
        return None


def _open_valid(path: Path, digest: str) -> sqlite3.Connection | None:
    """A read-only connection to ``path`` if it holds the index for ``digest``."""
    if not path.is_file():
        return None
    conn = _connect_ro(path)
    if conn is None:
        return None
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
    except sqlite3.Error:  # corrupt or foreign file: rebuild over it
        row = None
    if row is not None and row[0] == digest:
        return conn
    conn.close()
    return None


def _prune(cache_dir: Path, keep: Path) -> None:
    """Drop indexes of older knowledge and temp files left by crashed builds."""
    now = time.time()
    for old in cache_dir.glob(f"{_PREFIX}*.sqlite"):
        if old != keep:
            _unlink_quietly(old)
    for tmp in cache_dir.glob(f".{_PREFIX}*.tmp"):
        with contextlib.suppress(OSError):
            if now - tmp.stat().st_mtime > _STALE_TMP_SECONDS:
                tmp.unlink()


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):  # in use on Windows, or already gone: harmless
        path.unlink()
