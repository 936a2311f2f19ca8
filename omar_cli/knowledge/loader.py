"""Read the knowledge base from TOML files and validate it strictly.

Each ``*.toml`` file holds ``[[entry]]`` tables; see ``knowledge/README.md`` for the shape.
Validation is strict on purpose: a typo in a hand-edited file must fail loudly, naming the
file and the entry, instead of silently dropping a safety note or a source.

Only ``tomllib``, ``marshal``, ``re`` and ``zlib`` are imported (no importlib.resources, which
costs ~14 ms): this module is on the start-up path of every look-up command. Parsing the
TOML is most of the load time (~20 ms for the built-in base); callers that pass a
``cache_dir`` get the parsed files back from a marshal cache keyed by size and mtime (~4 ms).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import re
import tomllib
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omar_cli.errors import ConfigError
from omar_cli.i18n import _
from omar_cli.knowledge.model import CONFIDENCES, KINDS, LANGS, Entry, LangText, Source


class KnowledgeError(ConfigError):
    """A knowledge file is malformed or breaks a rule; the message names file and entry."""


_FILE_KEYS = frozenset({"entry"})
_ENTRY_REQUIRED = frozenset({"id", "kind", "name", "confidence", "sources", *LANGS})
_ENTRY_OPTIONAL = frozenset({"hex", "related", "facts", "gaps"})
_LANG_REQUIRED = frozenset({"title", "text"})
_LANG_OPTIONAL = frozenset({"causes", "checks", "keywords", "safety"})
#: the English facts are the entry's own [entry.facts]; other languages carry a translation
_SOURCE_LANG = "en"
_DIGITS = re.compile(r"\d+")
_SOURCE_KEYS = frozenset({"doc", "page", "ref", "drive"})

_ID_PATTERNS: Mapping[str, re.Pattern[str]] = {
    "fault": re.compile(r"F\d{4}"),
    "alarm": re.compile(r"A\d{4}"),
    "parameter": re.compile(r"\d{4}"),
}
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_HEX = re.compile(r"[0-9A-F]{4}")


def builtin_dir() -> Path:
    """Where the built-in knowledge lives: inside the installed package, else the checkout.

    A wheel carries the repository's ``knowledge/`` as ``omar_cli/_knowledge``; a source
    checkout or an editable install keeps it at the repository root.
    """
    package = Path(__file__).resolve().parents[1]  # .../omar_cli
    packaged = package / "_knowledge"
    if packaged.is_dir():
        return packaged
    return package.parent / "knowledge"


def load_entries(directory: Path, cache_dir: Path | None = None) -> list[Entry]:
    """Load and validate every ``*.toml`` in ``directory`` (sorted by file name).

    With ``cache_dir``, parsed TOML is kept there between runs; validation always runs.
    """
    if not directory.is_dir():
        raise KnowledgeError(
            _("knowledge directory not found: {directory}").format(directory=directory),
            hint=_("reinstall omar-cli, or check the path you passed"),
        )
    paths = sorted(directory.glob("*.toml"))
    docs = _parse_all(paths, cache_dir)
    entries: list[Entry] = []
    origin: dict[str, Path] = {}
    for path in paths:
        for entry in _entries_of(path, docs[path.name]):
            if entry.id in origin:
                raise KnowledgeError(
                    _("{path}: duplicate entry id {id} (already defined in {value})").format(
                        path=path, id=repr(entry.id), value=origin[entry.id].name
                    )
                )
            origin[entry.id] = path
            entries.append(entry)
    for entry in entries:
        for rel in entry.related:
            if rel not in origin:
                raise KnowledgeError(
                    _("{value}: entry {id}: related id {rel} does not exist").format(
                        value=origin[entry.id], id=entry.id, rel=repr(rel)
                    )
                )
    return entries


_CACHE_VERSION = 1


def _parse_all(paths: list[Path], cache_dir: Path | None) -> dict[str, Any]:
    """Parse each file, reusing the marshal cache for files whose size and mtime match."""
    stamps: dict[str, list[int]] = {}
    for path in paths:
        try:
            st = path.stat()
        except OSError as exc:
            raise KnowledgeError(
                _("{path}: cannot read: {reason}").format(path=path, reason=exc.strerror or exc)
            ) from exc
        stamps[path.name] = [st.st_size, st.st_mtime_ns]
    if cache_dir is None or not paths:
        return {path.name: _parse(path) for path in paths}
    tag = zlib.crc32(str(paths[0].parent.resolve()).encode())
    cache_file = cache_dir / f"knowledge-{tag:08x}.marshal"
    cached = _read_cache(cache_file)
    docs: dict[str, Any] = {}
    stale = set(cached) != set(stamps)
    for path in paths:
        hit = cached.get(path.name)
        if isinstance(hit, list) and len(hit) == 2 and hit[0] == stamps[path.name]:
            docs[path.name] = hit[1]
        else:
            docs[path.name] = _parse(path)
            stale = True
    if stale:
        _write_cache(cache_file, {name: [stamps[name], doc] for name, doc in docs.items()})
    return docs


def _parse(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already carries "(at line N, column M)"
        raise KnowledgeError(_("{path}: malformed TOML: {exc}").format(path=path, exc=exc)) from exc
    except OSError as exc:
        raise KnowledgeError(
            _("{path}: cannot read: {reason}").format(path=path, reason=exc.strerror or exc)
        ) from exc


def _read_cache(cache_file: Path) -> dict[str, Any]:
    # A missing, stale or corrupt cache is never an error: the files are parsed again.
    try:
        data = marshal.loads(cache_file.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION:
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def _write_cache(cache_file: Path, files: dict[str, Any]) -> None:
    try:
        blob = marshal.dumps({"version": _CACHE_VERSION, "files": files})
    except ValueError:  # a TOML date/time value: marshal cannot store it, skip caching
        return
    tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(blob)
        os.replace(tmp, cache_file)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _entries_of(path: Path, doc: Any) -> list[Entry]:
    unknown = set(doc) - _FILE_KEYS
    if unknown:
        raise KnowledgeError(
            _(
                "{path}: unknown top-level key(s) {unknown}; only [[entry]] tables are allowed"
            ).format(path=path, unknown=_names(unknown))
        )
    raw_entries = doc.get("entry", [])
    if not isinstance(raw_entries, list):
        raise KnowledgeError(
            _("{path}: 'entry' must be an array of tables ([[entry]])").format(path=path)
        )
    return [_entry(str(path), i, raw) for i, raw in enumerate(raw_entries, start=1)]


def _entry(fname: str, index: int, raw: Any) -> Entry:
    if not isinstance(raw, dict):
        raise KnowledgeError(
            _("{fname}: entry #{index} is not a table").format(fname=fname, index=index)
        )
    ident = raw.get("id")
    where = f"{fname}: entry {ident}" if isinstance(ident, str) else f"{fname}: entry #{index}"
    _check_keys(where, raw, _ENTRY_REQUIRED, _ENTRY_OPTIONAL)
    ident = _str(where, raw, "id")
    kind = _str(where, raw, "kind")
    if kind not in KINDS:
        raise KnowledgeError(
            _("{where}: unknown kind {kind}; expected one of {kinds}").format(
                where=where, kind=repr(kind), kinds=_names(KINDS)
            )
        )
    pattern = _ID_PATTERNS.get(kind, _SLUG)
    if not pattern.fullmatch(ident):
        raise KnowledgeError(
            _("{where}: id {ident} does not fit kind {kind} (expected {pattern})").format(
                where=where, ident=repr(ident), kind=repr(kind), pattern=pattern.pattern
            )
        )
    confidence = _str(where, raw, "confidence")
    if confidence not in CONFIDENCES:
        raise KnowledgeError(
            _("{where}: unknown confidence {confidence}; expected one of {confidences}").format(
                where=where, confidence=repr(confidence), confidences=_names(CONFIDENCES)
            )
        )
    hex_code = _opt_str(where, raw, "hex")
    if hex_code is not None and not _HEX.fullmatch(hex_code):
        raise KnowledgeError(
            _("{where}: field 'hex' must be 4 upper-case hex digits, e.g. '2310'").format(
                where=where
            )
        )
    facts = _facts(where, raw.get("facts", {}))
    gaps = _str_tuple(where, raw, "gaps")
    return Entry(
        id=ident,
        kind=kind,
        name=_str(where, raw, "name"),
        lang={
            lang: _lang_text(f"{where} [{lang}]", raw[lang], lang, facts, gaps) for lang in LANGS
        },
        confidence=confidence,
        sources=_sources(where, raw["sources"]),
        related=_str_tuple(where, raw, "related"),
        hex_code=hex_code,
        facts=facts,
        gaps=gaps,
    )


def _lang_text(
    where: str, raw: Any, lang: str, facts: dict[str, str], gaps: tuple[str, ...]
) -> LangText:
    if not isinstance(raw, dict):
        raise KnowledgeError(_("{where}: must be a table with title and text").format(where=where))
    translated = lang != _SOURCE_LANG
    extra = {"facts", "gaps"} if translated else set()
    _check_keys(where, raw, _LANG_REQUIRED, _LANG_OPTIONAL | extra)
    return LangText(
        title=_str(where, raw, "title"),
        text=_str(where, raw, "text").strip(),
        causes=_str_tuple(where, raw, "causes"),
        checks=_str_tuple(where, raw, "checks"),
        keywords=_str_tuple(where, raw, "keywords"),
        safety=_opt_str(where, raw, "safety"),
        facts=_translated_facts(where, raw.get("facts"), facts) if translated else facts,
        gaps=_translated_gaps(where, raw, gaps) if translated else gaps,
    )


def _translated_gaps(
    where: str, raw: Mapping[str, Any], english: tuple[str, ...]
) -> tuple[str, ...]:
    """A translation of the English gaps: one each, so no language hides a missing value."""
    gaps = _str_tuple(where, raw, "gaps")
    if len(gaps) != len(english):
        raise KnowledgeError(
            _(
                "{where}: {count} gaps but the entry's gaps has {english}; translate each gap "
                "once, in the same order"
            ).format(where=where, count=len(gaps), english=len(english))
        )
    return gaps


def _translated_facts(where: str, raw: Any, english: dict[str, str]) -> dict[str, str]:
    """A translation of the English facts: one per English fact, in order, same numbers.

    Labels and words are free, but every number must come through unchanged (a decimal
    comma is fine), so a value mistyped in one language fails here instead of misleading.
    """
    if raw is None:
        if english:
            raise KnowledgeError(
                _("{where}: the entry has [entry.facts]; translate them in facts").format(
                    where=where
                )
            )
        return {}
    if not english:
        raise KnowledgeError(
            _("{where}: facts given but the entry has no [entry.facts]").format(where=where)
        )
    facts = _facts(where, raw)
    if len(facts) != len(english):
        raise KnowledgeError(
            _(
                "{where}: {count} facts but [entry.facts] has {english}; translate each fact "
                "once, in the same order"
            ).format(where=where, count=len(facts), english=len(english))
        )
    for (key, value), (en_key, en_value) in zip(facts.items(), english.items(), strict=True):
        if _DIGITS.findall(value) != _DIGITS.findall(en_value):
            raise KnowledgeError(
                _(
                    "{where}: facts.{key} does not carry the numbers of facts.{en_key} ({en_value})"
                ).format(where=where, key=key, en_key=en_key, en_value=repr(en_value))
            )
    return facts


def _sources(where: str, raw: Any) -> tuple[Source, ...]:
    if not isinstance(raw, list) or not raw:
        raise KnowledgeError(
            _("{where}: field 'sources' must list at least one source").format(where=where)
        )
    out: list[Source] = []
    for i, item in enumerate(raw, start=1):
        at = f"{where}: source #{i}"
        if not isinstance(item, dict):
            raise KnowledgeError(_('{at}: must be a table like {{ doc = "..." }}').format(at=at))
        _check_keys(at, item, frozenset({"doc"}), _SOURCE_KEYS - {"doc"})
        out.append(
            Source(
                doc=_str(at, item, "doc"),
                page=_opt_str(at, item, "page"),
                ref=_opt_str(at, item, "ref"),
                drive=_opt_str(at, item, "drive") or "ACS150",
            )
        )
    return tuple(out)


def _facts(where: str, raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise KnowledgeError(
            _("{where}: field 'facts' must be a table of strings").format(where=where)
        )
    for key, value in raw.items():
        if not isinstance(value, str) or not value.strip():
            raise KnowledgeError(
                _('{where}: facts.{key} must be a non-empty string (quote numbers: "30 s")').format(
                    where=where, key=key
                )
            )
    return dict(raw)


def _check_keys(
    where: str, raw: Mapping[str, Any], required: frozenset[str], optional: frozenset[str]
) -> None:
    missing = required - set(raw)
    if missing:
        raise KnowledgeError(
            _("{where}: missing field(s) {missing}").format(where=where, missing=_names(missing))
        )
    unknown = set(raw) - required - optional
    if unknown:
        raise KnowledgeError(
            _("{where}: unknown field(s) {unknown}; allowed: {value}").format(
                where=where, unknown=_names(unknown), value=_names(required | optional)
            )
        )


def _str(where: str, raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeError(
            _("{where}: field {key} must be a non-empty string").format(where=where, key=repr(key))
        )
    return value


def _opt_str(where: str, raw: Mapping[str, Any], key: str) -> str | None:
    if key not in raw:
        return None
    return _str(where, raw, key)


def _str_tuple(where: str, raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise KnowledgeError(
            _("{where}: field {key} must be a list of non-empty strings").format(
                where=where, key=repr(key)
            )
        )
    return tuple(value)


def _names(keys: Any) -> str:
    return ", ".join(sorted(str(k) for k in keys))
