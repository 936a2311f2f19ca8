"""The shape of one knowledge entry, shared by the loader, the index and the answer builders.

An entry is one fact sheet: a fault, an alarm, a parameter, a rating row, a procedure or a
safety rule. Text comes in Spanish and English; provenance is mandatory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["es", "en"]
LANGS: tuple[Lang, ...] = ("es", "en")

#: acs150 = read in an ACS150 document; family = read in a sibling ABB drive's manual
#: (shown as "verify on your drive's manual"); unsure = sources disagree or inferred.
#: user = from a document the user added with `omar knowledge add`; field = a technician's
#: note or answer a reviewer approved (field experience, not the manual).
Confidence = Literal["acs150", "family", "unsure", "user", "field"]
CONFIDENCES: tuple[str, ...] = ("acs150", "family", "unsure", "user", "field")

KINDS: tuple[str, ...] = (
    "fault",
    "alarm",
    "parameter",
    "rating",
    "typecode",
    "procedure",
    "safety",
    "topic",
    "document",  # a chunk of a user's own document (PDF, Markdown, text)
    "field",  # an approved field note or answer (omar_cli/field_knowledge.py)
)
#: kinds whose titles and keywords name no code or entry: a document's title is shared by
#: its chunks, and a field note's words are a technician's, not a panel name
NAMELESS_KINDS: frozenset[str] = frozenset({"document", "field"})


@dataclass(frozen=True)
class Source:
    doc: str  # document title/code, e.g. "ACS150 User's Manual rev. D (3AFE68576032)"
    page: str | None = None  # printed page as the document numbers it, e.g. "130"
    ref: str | None = None  # key in shared/reference/acs150-facts.md, e.g. "S1", "P4"
    drive: str = "ACS150"  # drive the document is about (ACS150, ACS355, ACS550, ...)
    #: where in a document without pages: "§ 1.2 Wiring" (a heading), "¶ 4" (a paragraph)
    section: str | None = None

    def label(self) -> str:
        page = f", p. {self.page}" if self.page else ""
        section = f", {self.section}" if self.section else ""
        drive = "" if self.drive == "ACS150" else f" [{self.drive}]"
        return f"{self.doc}{page}{section}{drive}"


@dataclass(frozen=True)
class FieldOrigin:
    """Where a field entry comes from: the reviewed item, who approved it and when."""

    item: str  # the item id, SESSION.N
    reviewer: str
    date: str  # the day it was approved, YYYY-MM-DD
    kind: str  # "note" or "answer"


@dataclass(frozen=True)
class LangText:
    title: str
    text: str
    causes: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()  # in the order a technician should do them
    keywords: tuple[str, ...] = ()  # synonyms and phrases technicians actually use
    safety: str | None = None  # safety note that must travel with this entry
    #: the entry's facts in this language (labels and values translated); the English
    #: table is the entry's own ``[entry.facts]``
    facts: Mapping[str, str] = field(default_factory=dict)
    #: what is not known, in this language (the English list is the entry's ``gaps``)
    gaps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    id: str  # F0001, A2010, 2202, or a slug such as "rating-03x-04a7-2"
    kind: str  # one of KINDS
    name: str  # as the drive's panel shows it (OVERCURRENT), or a short label
    lang: Mapping[str, LangText]  # "es" and "en", both required
    confidence: str  # one of CONFIDENCES
    sources: tuple[Source, ...]  # at least one
    related: tuple[str, ...] = ()  # ids of related entries (parameters, faults)
    hex_code: str | None = None  # fieldbus (DRIVECOM) code, e.g. "2310"
    facts: Mapping[str, str] = field(default_factory=dict)  # range, default, unit, trip level
    gaps: tuple[str, ...] = ()  # what is known to be missing (English), never filled in
    origin: FieldOrigin | None = None  # a field entry's review; None for every other

    def text_in(self, lang: str) -> LangText:
        return self.lang.get(lang) or self.lang["en"]

    def facts_in(self, lang: str) -> Mapping[str, str]:
        """The facts in ``lang``; English (``facts``) where no translation is held."""
        text = self.lang.get(lang)
        return text.facts if text is not None and text.facts else self.facts

    def gaps_in(self, lang: str) -> tuple[str, ...]:
        """The gaps in ``lang``; English (``gaps``) where no translation is held."""
        text = self.lang.get(lang)
        return text.gaps if text is not None and text.gaps else self.gaps

    @property
    def needs_verification(self) -> bool:
        return self.confidence in ("family", "unsure")
