"""What backs an answer: the ids it cites (known or not) and the sources listed with it.

An online answer cites knowledge ids in square brackets ([F0002], [2203],
[rating-03x-04a7-2], [doc-1a2b-p12-1]). Every bracketed id-shaped token counts, not only
code-shaped ones, so an invented slug is caught as surely as an invented fault code. Brackets
that are plainly not citations are left alone:

- Markdown link text, ``[text](url)``;
- task-list checkboxes, ``[ ]`` and ``[x]``;
- footnote numbers of one to three digits, ``[1]`` to ``[999]`` (no knowledge id is a bare
  number below 1000: faults are F-codes, parameters four digits);
- text with spaces, ``[see the manual]``: a remark, not an id.

Several ids in one bracket, ``[F0002, 2203]``, are read one by one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omar_cli.knowledge.model import Entry
from omar_cli.knowledge.offline import provenance
from omar_cli.knowledge.safety import SafetyConflict, conflict_notice, entry_conflicts

if TYPE_CHECKING:
    from omar_cli.knowledge.index import KnowledgeIndex
    from omar_cli.prompt import Grounding

_BRACKET = re.compile(r"\[([^\[\]\n]{1,80})\](?!\()")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_FOOTNOTE = re.compile(r"\d{1,3}")
_CHECKBOX = frozenset({"", "x", "X"})


@dataclass(frozen=True)
class Citations:
    """The entries an answer cites, in the order first cited, and the ids it cites that the
    knowledge does not hold (as written)."""

    entries: tuple[Entry, ...]
    unknown: tuple[str, ...]

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(e.id for e in self.entries)


def cited_ids(text: str) -> list[str]:
    """The id-shaped tokens cited in brackets, in order, without repeats."""
    found: dict[str, None] = {}
    for match in _BRACKET.finditer(text):
        inner = match[1].strip()
        if inner in _CHECKBOX:
            continue
        for part in re.split(r"\s*[,;]\s*", inner):
            if _ID.fullmatch(part) and not _FOOTNOTE.fullmatch(part):
                found[part] = None
    return list(found)


def read_citations(text: str, resolve: Callable[[str], Entry | None]) -> Citations:
    """Each cited id resolved to its entry with ``resolve`` (None: not in the knowledge)."""
    entries: dict[str, Entry] = {}
    unknown: list[str] = []
    for ident in cited_ids(text):
        entry = resolve(ident)
        if entry is None:
            unknown.append(ident)
        else:
            entries.setdefault(entry.id, entry)
    return Citations(tuple(entries.values()), tuple(unknown))


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class SourceRef:
    id: str
    kind: str
    title: str
    confidence: str
    source: str
    cited: bool
    #: what a user's own document says against a safety rule, each with the rule
    safety_conflict: tuple[SafetyConflict, ...] = ()
    #: strong: the entry answers the question; weak: only possibly related (offline answers)
    match: str = "strong"


def entry_ref(
    entry: Entry,
    lang: str,
    *,
    cited: bool,
    conflicts: tuple[SafetyConflict, ...] | None = None,
    match: str = "strong",
) -> SourceRef:
    """A source as answers list it; ``conflicts`` None: found here (a user document only)."""
    return SourceRef(
        id=entry.id,
        kind=entry.kind,
        title=entry.text_in(lang).title,
        confidence=entry.confidence,
        source=provenance(entry, lang),
        cited=cited,
        safety_conflict=entry_conflicts(entry, lang) if conflicts is None else conflicts,
        match=match,
    )


@dataclass(frozen=True)
class Backing:
    """What backs an online answer: the entries it cites, what it was given and did not
    cite, and the flags for given user documents that contradict a safety rule."""

    citations: Citations
    sources: tuple[SourceRef, ...]
    also_given: tuple[SourceRef, ...]
    conflict_note: str | None


def backing(index: KnowledgeIndex, grounding: Grounding, text: str, lang: str) -> Backing:
    """Sources of an online ``text`` answered from ``grounding``."""
    citations = read_citations(text, lambda ident: resolve_cited(index, ident))
    flagged = grounding.conflicts
    sources = tuple(
        entry_ref(e, lang, cited=True, conflicts=flagged.get(e.id)) for e in citations.entries
    )
    also_given = tuple(
        entry_ref(h.entry, lang, cited=False, conflicts=flagged.get(h.id))
        for h in grounding.hits
        if h.id not in citations.ids
    )
    flags = [
        conflict_notice(h.entry, flagged[h.id], lang) for h in grounding.hits if h.id in flagged
    ]
    return Backing(citations, sources, also_given, "\n\n".join(flags) or None)


def resolve_cited(index: KnowledgeIndex, ident: str) -> Entry | None:
    """The entry a cited id names: exactly, in any case, or as a code written another way
    ([F2] for F0002); None when the knowledge holds nothing by that name."""
    from omar_cli.knowledge.index import UnknownCodeError

    entry = index.get(ident) or index.get(ident.upper()) or index.get(ident.lower())
    if entry is not None:
        return entry
    try:
        return index.lookup(ident)
    except UnknownCodeError:
        return None
