"""Field knowledge as knowledge entries: approved notes and answers, marked as field experience.

A reviewed item the supervisor approved (a field note, or an answer with its correction) is
turned into an ``Entry`` of kind ``field`` and confidence ``field``: it is searched and sent
to the model like any entry, but every place that shows it says whose experience it is
(reviewer, date, item id) and that it is not the manual. Two rules keep it in its place:

- it ranks below the built-in entries of the codes it names (:func:`builtin_first`), so a
  note about F0002 never stands above F0002's sheet;
- a text that contradicts a safety rule never becomes an entry (see
  ``omar_cli.field_knowledge``), so the safety rules and the built-in notes always stand.

The records themselves are kept by ``omar_cli.field_knowledge``; this module only reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from omar_cli.knowledge.model import Entry, FieldOrigin, LangText, Source

if TYPE_CHECKING:
    from omar_cli.knowledge.index import Hit

FIELD = "field"
PREFIX = "field-"
_HEADLINE = 90

#: the words an entry's title and facts use, per language (the entries are built once and
#: serve both languages, so they cannot go through the interface's gettext)
_WORDS: dict[str, dict[str, str]] = {
    "es": {
        "note": "Nota de campo",
        "answer": "Respuesta aprobada",
        "machine": "máquina",
        "symptom": "síntoma",
        "action": "acción",
        "parameters": "parámetros",
    },
    "en": {
        "note": "Field note",
        "answer": "Approved answer",
        "machine": "machine",
        "symptom": "symptom",
        "action": "action",
        "parameters": "parameters",
    },
}


@dataclass(frozen=True)
class FieldRecord:
    """One approved item as field knowledge keeps it (see omar_cli/field_knowledge.py)."""

    item: str  # SESSION.N
    kind: str  # "note" or "answer"
    text: str  # the note as written, or the answer's correction (else the answer)
    reviewer: str
    date: str  # YYYY-MM-DD
    question: str | None = None  # what an answer replied to
    codes: tuple[str, ...] = ()  # built-in fault/alarm ids it names
    parameters: tuple[tuple[str, str | None], ...] = ()  # (parameter id, value set)
    symptom: str | None = None
    action: str | None = None
    machine: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "kind": self.kind,
            "text": self.text,
            "reviewer": self.reviewer,
            "date": self.date,
            "question": self.question,
            "codes": list(self.codes),
            "parameters": [{"id": i, "value": v} for i, v in self.parameters],
            "symptom": self.symptom,
            "action": self.action,
            "machine": self.machine,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> FieldRecord:
        """ValueError/KeyError/TypeError when ``doc`` is not a record."""

        def text(key: str) -> str | None:
            value = doc.get(key)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{key} is not text")
            return value

        params = tuple((str(p["id"]), text_or_none(p.get("value"))) for p in doc["parameters"])
        return cls(
            item=str(doc["item"]),
            kind=str(doc["kind"]),
            text=str(doc["text"]),
            reviewer=str(doc["reviewer"]),
            date=str(doc["date"]),
            question=text("question"),
            codes=tuple(str(c) for c in doc["codes"]),
            parameters=params,
            symptom=text("symptom"),
            action=text("action"),
            machine=text("machine"),
        )

    @property
    def related(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.codes, *(i for i, _ in self.parameters)]))


def text_or_none(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise TypeError("expected text")
    return str(value)


def entry_id(item: str) -> str:
    return f"{PREFIX}{item}"


def field_entry(record: FieldRecord) -> Entry:
    """The searchable entry for an approved item."""
    lang = {code: _lang_text(record, code) for code in ("es", "en")}
    return Entry(
        id=entry_id(record.item),
        kind=FIELD,
        name=record.machine or record.item,
        lang=lang,
        confidence=FIELD,
        sources=(Source(doc=record.item, section=f"{record.reviewer}, {record.date}"),),
        related=record.related,
        facts=lang["en"].facts,
        origin=FieldOrigin(record.item, record.reviewer, record.date, record.kind),
    )


def _lang_text(record: FieldRecord, lang: str) -> LangText:
    words = _WORDS[lang]
    if record.kind == "answer" and record.question:
        headline = record.question
    else:
        headline = " → ".join(p for p in (record.symptom, record.action) if p) or record.text
    headline = " ".join(headline.split())
    if len(headline) > _HEADLINE:
        headline = headline[: _HEADLINE - 1].rstrip() + "…"
    label = words["answer" if record.kind == "answer" else "note"]
    facts = {
        words["machine"]: record.machine,
        words["symptom"]: record.symptom,
        words["action"]: record.action,
        words["parameters"]: "; ".join(f"{i} = {v}" if v else i for i, v in record.parameters),
    }
    return LangText(
        title=f"{label}: {headline}",
        text=record.text,
        keywords=(record.question,) if record.question else (),
        facts={k: v for k, v in facts.items() if v},
    )


def is_field(entry: Entry) -> bool:
    return entry.origin is not None and entry.kind == FIELD


def excerpt_head(entry: Entry) -> str:
    """The line that opens a field entry's excerpt in the prompt, saying what it is."""
    origin = entry.origin
    assert origin is not None
    return (
        f"[{entry.id}] FIELD NOTE (a technician's experience, item {origin.item}, approved by "
        f"{origin.reviewer} on {origin.date}; not from the manual: the manual's entries and "
        f"the safety rules come first): {entry.text_in('en').title}"
    )


def origin_codes(entry: Entry) -> frozenset[str]:
    """The fault and alarm codes a field entry is about (its other links are parameters)."""
    return frozenset(i for i in entry.related if i[:1] in ("F", "A") and i[1:].isdigit())


def field_notes_about(entries: Sequence[Entry]) -> dict[str, list[str]]:
    """Code or parameter id -> the ids of the field entries that name it."""
    about: dict[str, list[str]] = {}
    for entry in entries:
        if entry.kind == FIELD:
            for ident in entry.related:
                about.setdefault(ident, []).append(entry.id)
    return about


#: field notes about a code a question names that stand right after the code's own entry
LIFTED_PER_CODE = 2


def lift_field_notes(
    scores: dict[int, float],
    codes: Sequence[str],
    about: Mapping[str, Sequence[str]],
    rows: Mapping[str, int],
    *,
    below: float,
) -> None:
    """The newest field notes about each code the question names, scored just ``below``
    what the question names (its codes, the titles it says), above the entries merely
    related to them."""
    for position, ident in enumerate(codes):
        for rank, note in enumerate(reversed(about.get(ident, ())[-LIFTED_PER_CODE:])):
            row = rows[note]
            lifted = below - 0.001 * (position * LIFTED_PER_CODE + rank + 1)
            scores[row] = max(scores.get(row, 0.0), lifted)


def builtin_first(
    hits: Sequence[Hit], limit: int, builtin_hit: Callable[[str, Hit], Hit | None]
) -> list[Hit]:
    """``hits`` with each field entry placed after the built-in entries of its codes.

    A fault or alarm the field entry is about that is not among the hits is brought in just
    before it (``builtin_hit`` makes it, or says None when it may not be shown), so a note
    about F0002 is always read after F0002's own sheet; the parameters it names are moved
    before it when they are hits, and not brought in (a note sets many of them, and they
    would crowd out what the question asked for).
    """
    if not any(h.kind == FIELD for h in hits):
        return list(hits)
    by_id = {h.id: h for h in hits}
    ordered: list[Hit] = []
    placed: set[str] = set()
    for hit in hits:
        if hit.id in placed:
            continue
        if hit.kind == FIELD:
            codes = origin_codes(hit.entry)
            for ident in hit.entry.related:
                if ident in placed:
                    continue
                builtin = by_id.get(ident) or (builtin_hit(ident, hit) if ident in codes else None)
                if builtin is not None and builtin.kind != FIELD:
                    ordered.append(builtin)
                    placed.add(ident)
        ordered.append(hit)
        placed.add(hit.id)
    return ordered[:limit]
