"""Field knowledge: the approved notes and answers that `search` and answers may draw on.

What a supervisor approved (a field note, an online answer, a correction) is kept as one
small JSON file in the data directory, ``field-knowledge.json``: the records of the items
that count, and the items held out because they contradict a safety rule. A command that
searches reads that one file, never the session store. It is written atomically, under a
lock, by whatever changes a verdict: approve, reject, edit, withdraw, `review import`,
`review rm`, and `sync` (a note structured after it was approved). It is derived from the
store, so a missing or unreadable file is rebuilt from it.

What never counts: a pending, rejected or withdrawn item; a transcript (that is a question);
an offline answer nobody corrected (the built-in knowledge already says it); a text that
contradicts a safety rule (held out, and said so, until a correction removes it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omar_cli.errors import NotFoundError, StoreError
from omar_cli.i18n import _
from omar_cli.knowledge.field import FieldRecord, field_entry
from omar_cli.store.locking import FIELD_LOCK, StoreLock

if TYPE_CHECKING:
    from omar_cli.knowledge.model import Entry
    from omar_cli.knowledge.safety import SafetyConflict
    from omar_cli.store import Message, SessionStore

FILE = "field-knowledge.json"
_SCHEMA = 1
#: review states whose items are field knowledge (unless withdrawn)
KEPT = ("approved", "edited")
_CODE = re.compile(r"[FA]\d{4}")
_PARAMETER = re.compile(r"\d{4}")


@dataclass(frozen=True)
class HeldOut:
    """An approved item kept out of field knowledge: what it says against a safety rule."""

    item: str
    conflicts: tuple[SafetyConflict, ...]


@dataclass
class _Contents:
    records: dict[str, FieldRecord]
    held_out: dict[str, tuple[SafetyConflict, ...]]


class FieldKnowledge:
    """The field-knowledge file at ``path``, kept in step with the session ``store``."""

    def __init__(
        self,
        path: Path,
        store: Callable[[], SessionStore],
        store_root: Path,
        *,
        lock_timeout: float = 10.0,
    ) -> None:
        self.path = path
        self._store = store
        self._store_root = store_root
        self._lock_timeout = lock_timeout
        self._lock = StoreLock(path.parent, FIELD_LOCK)
        self._contents: _Contents | None = None

    # -- reading

    def records(self) -> list[FieldRecord]:
        return sorted(self._read().records.values(), key=lambda r: r.item)

    def entries(self) -> list[Entry]:
        """One knowledge entry per approved item, in item order."""
        return [field_entry(r) for r in self.records()]

    def held_out(self, item: str) -> HeldOut | None:
        found = self._read().held_out.get(item)
        return HeldOut(item, found) if found else None

    def status_of(self, item: str) -> str | None:
        """ "field" when the item is field knowledge, "held_out" when a safety rule keeps it
        out, None otherwise."""
        contents = self._read()
        if item in contents.records:
            return "field"
        return "held_out" if item in contents.held_out else None

    def _read(self) -> _Contents:
        if self._contents is None:
            self._contents = self._load()
        if self._contents is None:
            try:
                self._contents = self._rebuild()
            except StoreError:
                # a data folder that cannot be written (or locked for long): the records
                # are read from the store all the same, and written by the next change
                self._contents = self._collect()
        return self._contents

    def _load(self) -> _Contents | None:
        """The file's contents; None when it is missing or unreadable (then rebuilt)."""
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if doc.get("schema") != _SCHEMA:
                return None
            records = [FieldRecord.from_dict(r) for r in doc["items"]]
            held = {k: _conflicts(v) for k, v in doc["held_out"].items()}
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            return None  # derived data: rebuilt from the store
        return _Contents({r.item: r for r in records}, held)

    # -- keeping it in step

    def refresh(self, session_ids: Iterable[str]) -> None:
        """Take these sessions' items again from the store (verdicts changed, sessions
        imported or removed); other sessions' records stay as they are."""
        wanted = set(session_ids)
        if not wanted:
            return
        with self._locked():
            contents = self._load()
            if contents is None:
                self._contents = self._rebuild()
                return
            for key in [k for k in contents.records if _session_of(k) in wanted]:
                del contents.records[key]
            for key in [k for k in contents.held_out if _session_of(k) in wanted]:
                del contents.held_out[key]
            for session_id in sorted(wanted):
                self._take(contents, session_id)
            self._write(contents)
        self._contents = contents

    def rebuild(self) -> None:
        """Take every approved item from the store again (after a bundle import)."""
        self._contents = self._rebuild()

    def _rebuild(self) -> _Contents:
        """Every approved item of the store, written to the file (the lock is reentrant:
        ``refresh`` calls this holding it)."""
        if not self._store_root.exists():
            return _Contents({}, {})  # nothing approved yet: nothing written
        with self._locked():
            contents = self._collect()
            self._write(contents)
            return contents

    def _collect(self) -> _Contents:
        """Every approved item of the store."""
        contents = _Contents({}, {})
        store = self._store()
        sessions = {s.id for state in KEPT for s in store.summaries(review=state)}
        for session_id in sorted(sessions):
            self._take(contents, session_id)
        return contents

    def _take(self, contents: _Contents, session_id: str) -> None:
        from omar_cli.knowledge.safety import conflicts

        try:
            messages = self._store().reviewed(session_id, KEPT)
        except NotFoundError:  # removed
            return
        by_id = {m.id: m for m in messages}
        for m in messages:
            record = record_of(m, by_id.get(m.reply_to or ""))
            if record is None:
                continue
            found = conflicts(record.text, "es")
            if found:
                contents.held_out[m.id] = found
            else:
                contents.records[m.id] = record

    def _write(self, contents: _Contents) -> None:
        from omar_cli.atomic import atomic_write_bytes

        doc = {
            "schema": _SCHEMA,
            "items": [r.to_dict() for r in sorted(contents.records.values(), key=_key)],
            "held_out": {k: [c.to_dict() for c in v] for k, v in sorted(contents.held_out.items())},
        }
        data = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
        try:
            atomic_write_bytes(self.path, data)
        except OSError as exc:
            raise StoreError(
                _("cannot write {path}: {reason}").format(
                    path=self.path, reason=exc.strerror or exc
                ),
                hint=_("check the permissions and free space of the folder, then try again"),
            ) from exc

    def _locked(self) -> AbstractContextManager[None]:
        return self._lock.held(self._lock_timeout)


def record_of(m: Message, question: Message | None) -> FieldRecord | None:
    """The field record of an approved item; None when it is not field knowledge."""
    review = m.review
    if review is None or review.state not in KEPT or review.withdrawn_at is not None:
        return None
    corrected = review.corrected_text or None
    date = f"{review.at:%Y-%m-%d}" if review.at is not None else f"{m.created_at:%Y-%m-%d}"
    reviewer = review.reviewer or "?"
    if m.meta.get("kind") == "note":
        s = dict(m.meta.get("structure") or {})
        params = tuple((str(p.get("id")), _text(p.get("value"))) for p in s.get("parameters") or ())
        return FieldRecord(
            item=m.id, kind="note", text=corrected or m.text, reviewer=reviewer, date=date,
            codes=tuple(str(c) for c in s.get("codes") or ()), parameters=params,
            symptom=_text(s.get("symptom")), action=_text(s.get("action")),
            machine=_text(s.get("machine")),
        )  # fmt: skip
    if m.role != "assistant" or question is None:
        return None  # a transcript is a question's words, not knowledge
    if m.mode == "offline" and corrected is None:
        return None  # the built-in knowledge's own words
    # the model's words without the notes OMAR appended (the rule stands on its own)
    own = m.provenance.model_text if m.provenance is not None else None
    return FieldRecord(
        item=m.id, kind="answer", text=corrected or own or m.text, reviewer=reviewer, date=date,
        question=question.text or None,
        codes=tuple(s for s in m.sources if _CODE.fullmatch(s)),
        parameters=tuple((s, None) for s in m.sources if _PARAMETER.fullmatch(s)),
    )  # fmt: skip


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int | float) and str(value).strip() else None


def _conflicts(raw: Any) -> tuple[SafetyConflict, ...]:
    from omar_cli.knowledge.safety import SafetyConflict, rule_note

    return tuple(SafetyConflict(c["rule"], c["sentence"], rule_note(c["rule"], "en")) for c in raw)


def _session_of(item: str) -> str:
    return item.rpartition(".")[0]


def _key(record: FieldRecord) -> tuple[str, int]:
    session, _dot, seq = record.item.rpartition(".")
    return session, int(seq) if seq.isdigit() else 0
