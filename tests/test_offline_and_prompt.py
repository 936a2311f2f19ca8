"""Offline answers and the grounding block: extractive, cited, within budget, safety kept."""

from __future__ import annotations

import pytest

from omar_cli.knowledge.index import KnowledgeIndex
from omar_cli.knowledge.loader import builtin_dir, load_entries
from omar_cli.knowledge.offline import compose_offline_answer
from omar_cli.llm.model import ChatMessage
from omar_cli.prompt import (
    PROMPT_VERSION,
    SYSTEM_PROMPT,
    Turn,
    build_grounding,
    build_messages,
)


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex.open(load_entries(builtin_dir()), None)


def test_offline_answer_in_spanish_cites_and_warns(index: KnowledgeIndex) -> None:
    hits = index.search("cortocircuito en el cable del motor", lang="es", limit=3)
    text = compose_offline_answer(hits, "es")
    assert text.startswith("Respuesta sin conexión")
    assert "[F0004]" in text and "Fuente:" in text
    assert "SEGURIDAD" in text and "5 minutos" in text


def test_offline_answer_in_english_flags_sibling_sources(index: KnowledgeIndex) -> None:
    hits = index.search("earth fault in the motor", lang="en", limit=3)
    text = compose_offline_answer(hits, "en")
    assert text.startswith("Offline answer")
    assert "[F0016]" in text
    assert "verify on your drive's manual" in text


def test_offline_answer_without_hits_says_so() -> None:
    text = compose_offline_answer([], "en")
    assert "found nothing" in text and "3AFE68576032" in text


def test_grounding_respects_the_budget_and_keeps_ids(index: KnowledgeIndex) -> None:
    hits = index.search("sobretensión al frenar", lang="es", limit=8)
    small = build_grounding(hits, 1500, "es")
    large = build_grounding(hits, 20000, "es")
    assert 1 <= len(small.hits) < len(large.hits)
    assert len(small.text) <= 1500 + 200
    assert all(f"[{h.id}]" in large.text for h in large.hits)


def test_messages_carry_prompt_history_and_question(index: KnowledgeIndex) -> None:
    grounding = build_grounding(index.search("F0001", lang="es", limit=2), 4000, "es")
    messages = build_messages(
        "¿F0001?", grounding, [Turn("user", "hola"), Turn("assistant", "¿sí?")]
    )
    assert messages[0] == ChatMessage.of("system", SYSTEM_PROMPT)
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[-1].text.endswith("QUESTION: ¿F0001?")
    assert PROMPT_VERSION


def test_system_prompt_keeps_the_safety_rules() -> None:
    for rule in ("5 minutes", "lock out", "Never advise bypassing", "never invent", "language"):
        assert rule in SYSTEM_PROMPT


def test_system_prompt_covers_unknown_codes_and_conflicting_documents() -> None:
    for rule in ("NOT IN THE KNOWLEDGE BASE", "CONFLICTS WITH SAFETY RULE", "Cite only ids"):
        assert rule in SYSTEM_PROMPT


def test_unknown_codes_are_the_typed_codes_the_knowledge_lacks(index: KnowledgeIndex) -> None:
    unknown = index.unknown_codes("el variador muestra F0090 y A2999, antes F0002")
    assert [u.code for u in unknown] == ["F0090", "A2999"]
    assert all(u.suggestions and all(index.get(s) for s in u.suggestions) for u in unknown)
    assert index.unknown_codes("F0002 a 1500 rpm desde 2019, código 2310h") == []


def test_unknown_codes_travel_beside_the_knowledge(index: KnowledgeIndex) -> None:
    from omar_cli.knowledge.index import UnknownCode

    grounding = build_grounding(index.search("F0090", lang="es", limit=2), 4000, "es")
    unknown = [UnknownCode("F0090", ("F0009", "F0101"))]
    content = build_messages("¿F0090?", grounding, [], unknown)[-1].text
    assert content.startswith("KNOWLEDGE")
    assert "- F0090 is not in the knowledge base and must not be given a meaning" in content
    assert "Nearest known ids: F0009, F0101." in content
    assert content.endswith("QUESTION: ¿F0090?")
    plain = build_messages("¿F0090?", grounding, [])[-1].text
    assert "NOT IN THE KNOWLEDGE BASE" not in plain


def test_grounding_flags_a_user_document_that_contradicts_a_rule(index: KnowledgeIndex) -> None:
    from omar_cli.knowledge.index import Hit
    from omar_cli.knowledge.model import Entry, LangText, Source

    text = LangText(title="Notas p. 3", text="Puentee el relé térmico si dispara. Anote.")
    doc = Entry(
        "doc-abc-p3-1",
        "document",
        "Notas",
        {"es": text, "en": text},
        "user",
        (Source("Notas", page="3"),),
    )
    hits = [Hit(doc.id, doc.kind, "Notas", "", 1.0, "user", "Notas", doc)]
    grounding = build_grounding(hits, 200, "es")  # a tight budget keeps the flag
    assert "CONFLICTS WITH SAFETY RULE" in grounding.text
    assert "Puentee el relé térmico si dispara." in grounding.text
    assert [c.rule for c in grounding.conflicts[doc.id]] == ["protection"]
    builtin = build_grounding(index.search("falla a tierra", lang="es", limit=5), 20000, "es")
    assert builtin.conflicts == {} and "CONFLICTS WITH" not in builtin.text


def test_offline_answer_carries_one_safety_note(index: KnowledgeIndex) -> None:
    hits = index.search("cortocircuito falla a tierra fase del motor", lang="es", limit=3)
    assert sum(1 for h in hits if h.entry.text_in("es").safety) >= 2
    text = compose_offline_answer(hits, "es")
    assert text.count("⚠") == 1 and "5 minutos" in text
