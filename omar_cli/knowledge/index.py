"""Full-text retrieval over knowledge entries: SQLite FTS5 with BM25, Snowball stems, codes.

The index is a small SQLite file in the cache directory, named after a hash of the entries,
so it is rebuilt when the knowledge changes and reused otherwise. It is written to a temp
file and moved into place, so a process never sees a half-built index. Entries themselves
stay in memory (the caller loaded them); the file only holds the analysed text.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import re
import sqlite3
import tempfile
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from omar_cli.errors import NotFoundError
from omar_cli.knowledge import lang as language
from omar_cli.knowledge.codes import (
    Names,
    candidates,
    code_aliases,
    mentions,
    name_rows,
    numerically_near,
    other_kind_hint,
)
from omar_cli.knowledge.lang import ANALYZER_SIGNATURE, closest_term, fold, query_words, tokens
from omar_cli.knowledge.model import Entry, LangText

SCHEMA_VERSION = 3  # bump when what _fill stores changes
_PREFIX = "omar-index-"
_COLUMNS = ("codes", "title", "keywords", "body", "extra")
#: BM25 weight per column: codes and names, titles and technicians' keywords beat body text;
#: safety notes and facts repeat across entries and weigh least. Last 0 is the kind column.
_WEIGHTS = (8.0, 6.0, 4.0, 1.0, 0.4, 0.0)
_POOL = 40  # candidates fetched from FTS before code boosts re-rank them
_RELATED_SHARE = 0.25  # entries related to a quoted code get this share of the top score
#: a run of two query words found side by side in a title or keyword phrase ("tensión
#: nominal") says more than the same words scattered: its BM25 is added at this weight
_PHRASE_WEIGHT = 0.5
_STALE_TMP_SECONDS = 3600.0
_NOTHING = "nothing close is known; describe the symptom and search instead"


class UnknownCodeError(NotFoundError):
    """No entry for a code; ``suggestions`` holds the nearest known ids, best first."""

    def __init__(self, message: str, suggestions: list[str], hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.suggestions = suggestions


@dataclass(frozen=True)
class UnknownCode:
    """A code named in a question that no entry holds, with the nearest known ids."""

    code: str  # as the knowledge would name it: "F0090"
    suggestions: tuple[str, ...]


#: the codes a minimal unknown_codes() reports: written as a fault, alarm or type code,
#: never a bare number (a year, a speed) that only might be a parameter
_TYPED_CODE = re.compile(r"[FA]\d{4}|rating-.+")


@dataclass(frozen=True)
class Hit:
    id: str
    kind: str
    title: str
    text: str  # compact summary in the requested language: text plus key facts
    score: float
    confidence: str
    source: str  # label of the entry's first source
    entry: Entry


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


class KnowledgeIndex:
    """Search and code look-up over a fixed set of entries."""

    def __init__(
        self, entries: Sequence[Entry], conn: sqlite3.Connection, path: Path | None
    ) -> None:
        self._entries = list(entries)
        self._conn = conn
        self.path = path  # None when the index lives in memory
        self._by_id = {e.id: e for e in self._entries}
        self._row = {e.id: row for row, e in enumerate(self._entries)}
        self._hex = {e.hex_code.upper(): e.id for e in self._entries if e.hex_code}
        self._vocab: dict[str, list[str]] | None = None  # first letter -> terms, on first typo
        self._doc_freq: dict[str, int] = {}  # term -> entries holding it, with the vocabulary
        self._names: Names | None = None  # phrases with a number that name entries
        self._aliases: dict[str, str] | None = None  # code -> entry whose keywords name it

    @classmethod
    def open(cls, entries: Sequence[Entry], cache_dir: Path | None) -> KnowledgeIndex:
        """Reuse the cached index for these entries, or build it (in memory if unwritable)."""
        entries = list(entries)
        digest = fingerprint(entries)
        if cache_dir is not None:
            cached = _cached(cache_dir, digest, entries)
            if cached is not None:
                return cls(entries, cached[0], cached[1])
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        _fill(conn, digest, entries)
        return cls(entries, conn, None)

    @property
    def entries(self) -> list[Entry]:
        return list(self._entries)

    def close(self) -> None:
        self._conn.close()

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def detect_lang(self, text: str) -> language.DetectedLang:
        """Spanish or English, helped by the words only one language of the knowledge uses.

        The vocabulary is built with the index and stored in it; see ``language_vocabulary``.
        """
        words = sorted(set(tokens(text)))
        sql = f"SELECT word, lean FROM lang_vocab WHERE word IN ({', '.join('?' * len(words))})"
        leans = {str(w): float(v) for w, v in self._conn.execute(sql, words)} if words else {}
        return language.detect_lang(text, leans)

    # --- search ---------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        lang: str = "es",
        limit: int = 5,
        kinds: Collection[str] | None = None,
    ) -> list[Hit]:
        """Entries that answer ``query``, best first; quoted codes rank first."""
        if limit <= 0:
            return []
        allowed = frozenset(kinds) if kinds is not None else None
        terms = self._terms(query)
        scores = self._match(terms, allowed)
        self._phrase_boost(scores, terms, allowed)
        if self._names is None:
            self._names = Names(self._conn.execute("SELECT phrase, id FROM names ORDER BY rowid"))
        named = mentions(query, known=self._by_id, hex_map=self._hex, names=self._names)
        self._boost(scores, named, allowed)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [_hit(self._entries[row], score, lang) for row, score in ranked]

    def _terms(self, query: str) -> list[str]:
        """Stems of the query's words; a word the index never saw gets its closest term."""
        terms: dict[str, None] = {}
        self._vocabulary()
        for word, stems in query_words(query, self.detect_lang(query)):
            # one stem per word, so a word does not weigh twice: the reading the knowledge
            # uses most ("time" over Spanish "tim"); both only when the knowledge can't tell
            freq = {s: self._doc_freq[s] for s in stems if s in self._doc_freq}
            known = [s for s in freq if freq[s] == max(freq.values())]
            terms.update(dict.fromkeys(known or stems))
            if not known and len(word) >= 4 and word.isalpha():
                fixed = closest_term(word, stems, self._vocabulary().get(word[0], []))
                if fixed is not None:
                    terms[fixed] = None
        return list(terms)

    def _vocabulary(self) -> dict[str, list[str]]:
        if self._vocab is None:
            rows = self._conn.execute("SELECT term, doc FROM vocab").fetchall()
            self._doc_freq = {str(term): int(docs) for term, docs in rows}
            self._vocab = {}
            for term in sorted(self._doc_freq):
                if term.isalpha():
                    self._vocab.setdefault(term[0], []).append(term)
        return self._vocab

    def _match(self, terms: list[str], allowed: frozenset[str] | None) -> dict[int, float]:
        if not terms:
            return {}
        expression = " OR ".join(f'"{term}"' for term in terms)
        weights = ", ".join(str(w) for w in _WEIGHTS)
        sql = f"SELECT rowid, bm25(docs, {weights}) FROM docs WHERE docs MATCH ?"
        params: list[object] = [expression]
        if allowed is not None:
            sql += f" AND kind IN ({', '.join('?' * len(allowed))})"
            params.extend(sorted(allowed))
        sql += " ORDER BY 2 LIMIT ?"
        params.append(_POOL)
        return {int(row): -float(rank) for row, rank in self._conn.execute(sql, params)}

    def _phrase_boost(
        self, scores: dict[int, float], terms: list[str], allowed: frozenset[str] | None
    ) -> None:
        pairs = [f'"{a} {b}"' for a, b in pairwise(terms)]
        if not pairs:
            return
        sql = "SELECT rowid, bm25(docs), kind FROM docs WHERE docs MATCH ? ORDER BY 2 LIMIT ?"
        expression = "{title keywords} : (" + " OR ".join(pairs) + ")"
        for row, rank, kind in self._conn.execute(sql, [expression, _POOL]):
            if allowed is None or kind in allowed:
                scores[int(row)] = scores.get(int(row), 0.0) - _PHRASE_WEIGHT * float(rank)

    def _boost(
        self,
        scores: dict[int, float],
        named: list[tuple[str, ...]],
        allowed: frozenset[str] | None,
    ) -> None:
        """Quoted codes and names go above every word match; related entries get a nudge."""
        fits = [
            [c for c in group if allowed is None or self._by_id[c].kind in allowed]
            for group in named
        ]
        groups = [group for group in fits if group]
        codes = [ident for group in groups for ident in group]
        top = max(scores.values(), default=1.0)
        for ident in codes:
            for rel in self._by_id[ident].related:
                rel_entry = self._by_id.get(rel)
                if rel_entry is None or (allowed is not None and rel_entry.kind not in allowed):
                    continue
                rel_row = self._row[rel]
                scores[rel_row] = scores.get(rel_row, 0.0) + _RELATED_SHARE * top
        ceiling = max(scores.values(), default=0.0)
        for position, group in enumerate(groups):  # in the order the question names them
            for rank, ident in enumerate(group):  # entries sharing a name: likeliest first
                tie = 0.5 * (len(group) - rank) / len(group)
                scores[self._row[ident]] = ceiling + float(len(groups) - position) + tie

    def unknown_codes(self, text: str) -> list[UnknownCode]:
        """Fault, alarm and type codes named in ``text`` that resolve to no entry."""
        if self._names is None:
            self._names = Names(self._conn.execute("SELECT phrase, id FROM names ORDER BY rowid"))
        named = mentions(text, known=None, hex_map=self._hex, names=self._names)
        found: list[UnknownCode] = []
        for ident in dict.fromkeys(i for group in named for i in group):
            if _TYPED_CODE.fullmatch(ident) and self._resolve(ident, None) is None:
                found.append(UnknownCode(ident, tuple(self._suggest(ident, None))))
        return found

    # --- code look-up ---------------------------------------------------------------------

    def lookup(self, raw: str, kind: str | None = None) -> Entry:
        """The entry a code names (``F1``, ``22.02``, ``2310h``, ``overcurrent``...).

        A code no entry has as its id ("103") may be named by another entry's keywords
        (F0101 covers 101 to 105). Raises UnknownCodeError with the nearest known ids when
        nothing matches, and says so when the code is of another kind ("A2010" as a fault).
        """
        entry = self._resolve(raw, kind)
        if entry is not None:
            return entry
        suggestions = self._suggest(raw, kind)
        other = self._resolve(raw, None) if kind is not None else None
        if other is not None:  # "A2010" as a fault: say where it is
            suggestions = list(dict.fromkeys([other.id, *suggestions]))[:5]
        hint = other_kind_hint(other.id, other.kind) if other is not None else None
        if hint is None:
            hint = f"nearest known: {', '.join(suggestions)}" if suggestions else _NOTHING
        raise UnknownCodeError(f"unknown {kind or 'code'} {raw.strip()!r}", suggestions, hint)

    def _resolve(self, raw: str, kind: str | None) -> Entry | None:
        readings = candidates(raw, kind, hex_map=self._hex)
        for ident in readings:
            entry = self._by_id.get(ident)
            if entry is not None and (kind is None or entry.kind == kind):
                return entry
        entry = self._by_label(raw, kind)
        if entry is not None:
            return entry
        if self._aliases is None:
            self._aliases = code_aliases(self._entries)
        named = [self._aliases[ident] for ident in readings if ident in self._aliases]
        return self._by_id[named[0]] if named else None

    def _by_label(self, raw: str, kind: str | None) -> Entry | None:
        """Exact id in any case, or the panel name / title: "overcurrent", "Sobrecorriente"."""
        wanted = " ".join(tokens(raw))
        if not wanted:
            return None
        for entry in self._entries:
            if kind is not None and entry.kind != kind:
                continue
            labels = [entry.id, entry.name, *(t.title for t in entry.lang.values())]
            if any(" ".join(tokens(label)) == wanted for label in labels):
                return entry
        return None

    def _suggest(self, raw: str, kind: str | None, count: int = 5) -> list[str]:
        found: list[str] = []
        readings = candidates(raw, kind)
        if readings:
            found += numerically_near(readings[0], self._entries, count=3)
        pool = [e for e in self._entries if kind is None or e.kind == kind]
        names = {fold(e.name): e.id for e in pool}
        for title_lang in ("es", "en"):
            names.update({fold(e.text_in(title_lang).title): e.id for e in pool})
        for name in difflib.get_close_matches(fold(raw.strip()), list(names), n=3, cutoff=0.6):
            found.append(names[name])
        if not readings:  # words, not a code: what a search for them finds
            found += [hit.id for hit in self.search(raw, limit=3, kinds=_kinds(kind))]
        return list(dict.fromkeys(found))[:count]


def _kinds(kind: str | None) -> list[str] | None:
    return [kind] if kind is not None else None


def _hit(entry: Entry, score: float, lang: str) -> Hit:
    text = entry.text_in(lang)
    return Hit(
        id=entry.id,
        kind=entry.kind,
        title=text.title,
        text=_summary(entry, text),
        score=round(score, 4),
        confidence=entry.confidence,
        source=entry.sources[0].label() if entry.sources else "",
        entry=entry,
    )


def _summary(entry: Entry, text: LangText) -> str:
    facts = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in (text.facts or entry.facts).items())
    return f"{text.text} [{facts}]" if facts else text.text


# --- building and caching -------------------------------------------------------------------


def _fill(conn: sqlite3.Connection, digest: str, entries: Sequence[Entry]) -> None:
    names = ", ".join(_COLUMNS)
    conn.executescript(
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        f"CREATE VIRTUAL TABLE docs USING fts5({names}, kind UNINDEXED,"
        " tokenize = 'unicode61 remove_diacritics 2');"
        "CREATE VIRTUAL TABLE vocab USING fts5vocab(docs, 'row');"
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


def _cached(
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
            _fill(conn, digest, entries)
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
