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


# --- greetings and follow-ups ------------------------------------------------------------------

from omar_cli.knowledge.lang import is_greeting, points_back  # noqa: E402


@pytest.mark.parametrize(
    "text",
    [
        "hola",
        "Buenos días!",
        "buenas tardes",
        "gracias!! ya quedó funcionando",
        "muchas gracias",
        "hello",
        "hi there",
        "good morning",
        "thanks, that fixed it",
        "thank you",
    ],
)
def test_greetings_and_thanks(text: str) -> None:
    assert is_greeting(text)


@pytest.mark.parametrize(
    "text",
    [
        "hola, me sale F0002 al frenar",
        "gracias, y ahora cómo reseteo el fallo que quedó en pantalla",
        "hello, the drive trips on overcurrent",
        "good morning, motor overheats",
        "F0001",
        "",
    ],
)
def test_questions_are_no_greetings(text: str) -> None:
    assert not is_greeting(text)


@pytest.mark.parametrize(
    "text",
    [
        "¿y si persiste?",
        "¿y eso dónde se cambia?",
        "y si vuelve a salir",
        "and if it comes back?",
        "where is that set?",
        "what about that one?",
        "¿dónde lo cambio?",
    ],
)
def test_short_questions_that_point_back(text: str) -> None:
    assert points_back(text)


@pytest.mark.parametrize(
    "text",
    [
        "el motor se calienta mucho",
        "otra cosa: cómo reseteo un fallo",
        "earth fault on the motor",
        "the drive trips on overvoltage when the big fan stops and the decel ramp is 5 s, why?",
    ],
)
def test_questions_with_their_own_subject_do_not_point_back(text: str) -> None:
    assert not points_back(text)
