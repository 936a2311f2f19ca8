"""Language detection: stopwords and accents, helped by the knowledge's own vocabulary."""

from __future__ import annotations

from pathlib import Path

import pytest

from omar_cli.knowledge import lang
from omar_cli.knowledge.index import KnowledgeIndex
from omar_cli.knowledge.lang import detect_lang, language_vocabulary
from omar_cli.knowledge.loader import builtin_dir, load_entries

ENGLISH = [
    "motor overheating",
    "overcurrent",
    "motor stall",
    "acceleration time",
    "brake resistor size",
    "supply phase missing",
    "drive trips",
]
SPANISH = [
    "sobrecorriente",
    "falla a tierra",
    "rampa de aceleracion",
    "variador se dispara",
    "F0001 al arrancar",
    "motor bloqueado",
    "sale EXT FAULT 1 en la pantalla",
    "me sale overcurrent",
]


@pytest.fixture(scope="module")
def builtin_index() -> KnowledgeIndex:
    return KnowledgeIndex.open(load_entries(builtin_dir()), None)


@pytest.mark.parametrize("text", ENGLISH)
def test_short_english_questions(builtin_index: KnowledgeIndex, text: str) -> None:
    assert builtin_index.detect_lang(text) == "en"


@pytest.mark.parametrize("text", SPANISH)
def test_short_spanish_questions(builtin_index: KnowledgeIndex, text: str) -> None:
    assert builtin_index.detect_lang(text) == "es"


@pytest.mark.parametrize("text", ["F0001", "22.02", "", "motor", "ACS150"])
def test_ambiguous_input_is_spanish(builtin_index: KnowledgeIndex, text: str) -> None:
    assert builtin_index.detect_lang(text) == "es"


def test_vocabulary_leans_by_the_language_that_uses_a_word() -> None:
    docs = [
        {"en": "Motor overheating: the motor stall", "es": "Sobretemperatura del motor STALL"},
        {"en": "Motor stall", "es": "Motor bloqueado"},
    ]
    leans = language_vocabulary(docs)
    assert leans["overheating"] == 1.0 and leans["bloqueado"] == -1.0
    assert 0 < leans["stall"] < 1  # quoted by the Spanish text once: a weaker English sign
    assert "motor" not in leans and "the" not in leans and "del" not in leans


def test_vocabulary_only_helps_where_stopwords_say_nothing() -> None:
    leans = {"overheating": 1.0, "motor": 0.0}
    assert detect_lang("motor overheating") == "es"  # without it: unsure, so Spanish
    assert detect_lang("motor overheating", leans) == "en"
    assert detect_lang("el motor overheating", leans) == "es"  # a tie stays Spanish
    assert detect_lang("¿overheating?", leans) == "es"  # accents and ¿ weigh more


def test_cached_index_does_not_rebuild_the_vocabulary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = load_entries(builtin_dir())
    KnowledgeIndex.open(entries, tmp_path).close()

    def fail(*args: object) -> None:
        raise AssertionError("vocabulary rebuilt from the entries")

    monkeypatch.setattr(lang, "language_vocabulary", fail)
    index = KnowledgeIndex.open(entries, tmp_path)
    assert index.detect_lang("motor overheating") == "en"
