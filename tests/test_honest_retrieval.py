"""Honest retrieval on the real knowledge: unknown codes, numbers that are no codes, how strong
a match is, nothing when nothing answers, symptoms before the setting that disables them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omar_cli.knowledge.index import Hit, KnowledgeIndex, UnknownCode
from omar_cli.knowledge.loader import builtin_dir, load_entries

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex.open(load_entries(builtin_dir()), None)


def search(index: KnowledgeIndex, query: str, limit: int = 5) -> list[Hit]:
    return index.search(query, lang=index.detect_lang(query), limit=limit)


# --- unknown codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("el variador muestra F0090 y no arranca", "F0090"),
        ("the drive shows F0090 and won't start", "F0090"),
        ("me sale el fallo 90", "F0090"),
        ("fault code 47 on the panel", "F0047"),
        ("sale la alarma A2099", "A2099"),
        ("alarm 2099 blinking", "A2099"),
        ("el panel muestra 9999", "9999"),
        ("qué hace el parámetro 5001", "5001"),
    ],
)
def test_unknown_codes_are_named_with_the_nearest_known(
    index: KnowledgeIndex, text: str, code: str
) -> None:
    found = index.unknown_codes(text)
    assert [u.code for u in found] == [code]
    assert isinstance(found[0], UnknownCode)
    assert found[0].suggestions, "nearest known ids"
    assert all(index.get(s) is not None for s in found[0].suggestions)
    kind = index.get(found[0].suggestions[0])
    assert kind is not None and kind.kind == {"F": "fault", "A": "alarm"}.get(code[0], "parameter")


def test_known_codes_and_aliases_are_not_unknown(index: KnowledgeIndex) -> None:
    assert index.unknown_codes("F0001 y luego alarma 2010, después 22.02") == []
    assert index.unknown_codes("me sale el fallo 103") == []  # F0101 covers 101 to 105


@pytest.mark.parametrize(
    "query", ["el variador muestra F0090 y no arranca", "the drive shows F0090 and won't start"]
)
def test_an_unknown_code_never_brings_another_code_as_the_answer(
    index: KnowledgeIndex, query: str
) -> None:
    assert all(hit.match == "weak" for hit in search(index, query))


# --- numbers that are no codes -----------------------------------------------------------------

NOT_CODES = [
    # figures with a unit
    "motor de 7.5 hp a 1450 rpm",
    "motor 5.5 kW 380 V, 12 A en el display",
    "señal de 4-20 mA o de 0-10 V",
    "60Hz motor, 1750 rpm, 2.2kW",
    "rampa de 10 s y 50 Hz",
    "a 3800 msnm en los Andes",
    "the motor draws 1200 watts at 2000 rpm",
    "esperé 2000 horas",
    # other drives and PLCs
    "we replaced an ACS550 with this drive",
    "el ACS355 de la otra línea",
    "ACS880 on the next cabinet",
    "antes tenía un ATV312",
    "PowerFlex 525 replaced by an ABB drive",
    "el Sinamics V20 que teníamos antes",
    "old Altivar 71 on the pump",
    "un Micromaster 440 viejo",
    "Danfoss FC51 and Danfoss FC 302",
    "Yaskawa V1000 on the conveyor",
    "el PLC es un S7-1200 de Siemens",
    "Siemens S7 1200 PLC",
    # years and part numbers
    "guardado en bodega desde 2019",
    "stored since 2015 in the warehouse",
    "the machine was built in 1998",
    "modelo 3021 de la bomba",
    "part number 1234 of the fan",
    "referencia 5678 del filtro",
]


@pytest.mark.parametrize("text", NOT_CODES)
def test_numbers_that_are_not_codes(index: KnowledgeIndex, text: str) -> None:
    assert index.unknown_codes(text) == []
    named = index._plan(text).named
    assert named == [], f"{text!r} boosted {named}"


def test_a_figure_asked_alone_still_finds_its_row(index: KnowledgeIndex) -> None:
    assert {h.id for h in search(index, "4,7 A", limit=2)} == {
        "rating-01x-04a7-2",
        "rating-03x-04a7-2",
    }


def test_figures_in_a_story_do_not_pull_rating_rows(index: KnowledgeIndex) -> None:
    query = "what cable should I use between the drive and the motor, 30 m run, 2.2 kW"
    top = [h.id for h in search(index, query, limit=3)]
    assert "power-cables" in top
    assert not any(ident.startswith("rating-") for ident in top)


# --- match strength and the floor --------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "cual es la receta de la paella",
        "what is the capital of Australia",
        "how do I bake sourdough bread",
        "hola",
        "gracias!! ya quedó funcionando",
        "thanks, that fixed it",
        "PowerFlex 525 shows F004, what does it mean",
    ],
)
def test_questions_nothing_answers_get_no_hits(index: KnowledgeIndex, query: str) -> None:
    assert search(index, query) == []


@pytest.mark.parametrize(
    ("query", "best"),
    [
        ("sobrecorriente", "F0001"),
        ("el motor se sobrecalienta", "F0009"),
        ("drive trips on overvoltage when the fan stops", "F0002"),
        ("F0002", "F0002"),
        ("cuánto hay que esperar antes de tocar los bornes", "safety-dc-link-discharge"),
    ],
)
def test_a_good_answer_is_strong(index: KnowledgeIndex, query: str, best: str) -> None:
    hits = search(index, query)
    assert hits[0].id == best
    assert hits[0].match == "strong"


@pytest.mark.parametrize("query", ["no arranca", "el display no enciende"])
def test_a_single_common_word_is_only_possibly_related(index: KnowledgeIndex, query: str) -> None:
    assert all(hit.match == "weak" for hit in search(index, query))


def test_entries_related_to_a_quoted_code_are_weak(index: KnowledgeIndex) -> None:
    hits = search(index, "F0001")
    assert hits[0].id == "F0001" and hits[0].match == "strong"
    assert len(hits) > 1 and all(h.match == "weak" for h in hits[1:])


def test_long_stories_keep_their_answer(index: KnowledgeIndex) -> None:
    query = (
        "Buenas, tengo un ACS150 de 2.2kW moviendo una bomba centrífuga de 3 hp a 1450 rpm, "
        "cada vez que arranca a los 2 segundos se para y marca sobrecorriente, ya revisé el "
        "motor con el tester y está bien. ¿Qué puede ser?"
    )
    assert "F0001" in [h.id for h in search(index, query, limit=3)]


def _rows(name: str) -> list[dict[str, object]]:
    path = DATA / name
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def test_most_off_topic_questions_get_no_hits(index: KnowledgeIndex) -> None:
    rows = _rows("questions-none.jsonl")
    empty = [row["id"] for row in rows if not search(index, str(row["q"]))]
    assert len(empty) / len(rows) >= 0.6, f"only {empty} found nothing"


# --- safety in ranking -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "falla a tierra en el motor",
        "earth fault on the motor",
        "me salta falla a tierra al arrancar",
        "drive trips on earth fault after rain",
    ],
)
def test_a_symptom_leads_with_the_fault_not_the_setting_that_disables_it(
    index: KnowledgeIndex, query: str
) -> None:
    ids = [h.id for h in search(index, query)]
    assert ids[0] == "F0016"
    assert "3017" not in ids[:1]


@pytest.mark.parametrize(
    "query",
    ["cómo desactivo la detección de falla a tierra", "which parameter disables earth fault"],
)
def test_a_question_about_the_setting_gets_the_parameter(index: KnowledgeIndex, query: str) -> None:
    assert search(index, query)[0].id == "3017"


# --- other products ------------------------------------------------------------------------------


def test_a_sibling_drive_the_knowledge_draws_on_shares_its_codes(index: KnowledgeIndex) -> None:
    query = "our fan is on an ACH550 and it tripped F0001 when the load jammed"
    assert index._plan(query).named[0] == ("F0001",)
    assert search(index, query)[0].id == "F0001"


@pytest.mark.parametrize(
    "query",
    [
        "PowerFlex 525 shows F0004 on start",
        "el Altivar 71 marca F0001",
        "ACS880 shows fault 2310 after the update",
        "ACS800 DeviceNet groups 50 to 53 did not copy with the panel upload",
        "el arrancador suave marca fallo 3 al arrancar la bomba",
        "soft starter trips on overcurrent at start",
    ],
)
def test_another_makers_or_family_drive_is_never_answered_as_ours(
    index: KnowledgeIndex, query: str
) -> None:
    assert index._plan(query).named == []
    assert index.unknown_codes(query) == []
    assert all(hit.match == "weak" for hit in search(index, query))


@pytest.mark.parametrize(
    ("text", "other"),
    [
        ("old yaskawa died so we put in the abb, now it trips", False),
        ("el yaskawa viejo murio, pusimos el abb y ahora se apaga", False),
        ("the yaskawa on the next line trips on overcurrent", True),
        ("replaced the abb acs880 with a yaskawa", True),
    ],
)
def test_the_abb_that_replaced_another_makers_drive_is_ours(text: str, other: bool) -> None:
    from omar_cli.knowledge.products import about_other_product

    assert about_other_product(text) is other


def test_rating_rows_a_question_cannot_tell_apart_stand_as_one(index: KnowledgeIndex) -> None:
    """ "monofásico" fits every 1-phase row alike: one row, then the topics they share."""
    query = "puedo conectar un motor de 220 a un variador monofasico"
    found = [hit.id for hit in search(index, query)]
    assert sum(1 for i in found[:3] if i.startswith("rating-")) == 1
    assert {"typecode", "sizing-drive-selection"} <= set(found[:3])


def test_story_words_and_shorthand(index: KnowledgeIndex) -> None:
    """When it happened says nothing; "max freq" is the maximum frequency."""
    assert [w.word for w in index._plan("ayer funcionaba perfecto y hoy no arranca").words] == [
        "funcionaba",
        "arranca",
    ]
    assert search(index, "max freq")[0].id == "2008"
    assert search(index, "tiempo de accel")[0].id in ("2202", "2205")
