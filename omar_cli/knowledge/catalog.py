"""What the built-in knowledge holds, one row per entry: the `omar codes` listing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from omar_cli.knowledge.model import KINDS, Entry


@dataclass(frozen=True)
class CatalogRow:
    id: str
    kind: str
    name: str  # as the panel shows it, or a short label
    title: str  # in the requested language
    confidence: str


def catalog(entries: Iterable[Entry], lang: str, kind: str | None = None) -> tuple[CatalogRow, ...]:
    """Rows for ``entries`` (of one ``kind`` if given), grouped by kind, codes in order."""
    rows = (
        CatalogRow(e.id, e.kind, e.name, e.text_in(lang).title, e.confidence)
        for e in entries
        if kind is None or e.kind == kind
    )
    return tuple(sorted(rows, key=_order))


def _order(row: CatalogRow) -> tuple[int, list[int | str]]:
    rank = KINDS.index(row.kind) if row.kind in KINDS else len(KINDS)
    # numbers inside ids compare as numbers: F0009 before F0010, rating 02A4 before 09A8
    parts = [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", row.id) if p]
    return rank, parts
