"""Reading what an answer cites: ids of any shape, and brackets that are no citations."""

from __future__ import annotations

import pytest

from omar_cli.knowledge.index import KnowledgeIndex
from omar_cli.knowledge.loader import builtin_dir, load_entries
from omar_cli.sources import cited_ids, read_citations, resolve_cited


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex.open(load_entries(builtin_dir()), None)


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("Vea [F0002] y [2203].", ["F0002", "2203"]),
        ("[F0002, 2203; rating-03x-04a7-2]", ["F0002", "2203", "rating-03x-04a7-2"]),
        ("[doc-1a2b3c-p12-1] y otra vez [F0002] [F0002]", ["doc-1a2b3c-p12-1", "F0002"]),
        ("[el manual](https://abb.com) y [ACS150](http://x)", []),  # link text
        ("- [x] hecho\n- [ ] pendiente\n- [X] otro", []),  # checkboxes
        ("como dice el manual [1] y [12] y [999]", []),  # footnotes
        ("[see the manual] [nota: ver]", []),  # remarks with spaces
        ("[safety-foo] y [F9999]", ["safety-foo", "F9999"]),
    ],
)
def test_cited_ids(text: str, ids: list[str]) -> None:
    assert cited_ids(text) == ids


def test_citations_resolve_in_any_case_and_any_code_spelling(index: KnowledgeIndex) -> None:
    found = read_citations(
        "[f0002] [F2] [2203] [RATING-03X-04A7-2] [F0042] [safety-foo]",
        lambda ident: resolve_cited(index, ident),
    )
    assert [e.id for e in found.entries] == ["F0002", "2203", "rating-03x-04a7-2"]
    assert found.unknown == ("F0042", "safety-foo")
