"""Offline answers and the grounding block: extractive, cited, within budget, safety kept."""

from __future__ import annotations

import pytest

from omar_cli.knowledge.index import KnowledgeIndex
from omar_cli.knowledge.loader import builtin_dir, load_entries
from omar_cli.knowledge.offline import compose_offline_answer
from omar_cli.prompt import PROMPT_VERSION, SYSTEM_PROMPT, build_grounding, build_messages


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
    messages = build_messages("¿F0001?", grounding, [("user", "hola"), ("assistant", "¿sí?")])
    assert messages[0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[-1]["content"].endswith("QUESTION: ¿F0001?")
    assert PROMPT_VERSION


def test_system_prompt_keeps_the_safety_rules() -> None:
    for rule in ("5 minutes", "lock out", "Never advise bypassing", "never invent", "language"):
        assert rule in SYSTEM_PROMPT
