"""Codes as technicians write them, normalised to knowledge ids."""

from __future__ import annotations

import pytest

from omar_cli.knowledge.codes import (
    Names,
    candidates,
    code_aliases,
    extract_codes,
    keyword_code,
    mentions,
    name_rows,
)
from omar_cli.knowledge.model import Entry, LangText

HEX = {"2310": "F0001", "3210": "F0002", "2330": "F0016", "3130": "F0022", "FF84": "F0011"}


@pytest.mark.parametrize(
    ("raw", "first"),
    [
        ("F1", "F0001"),
        ("F01", "F0001"),
        ("F0001", "F0001"),
        ("f0001", "F0001"),
        ("f 1", "F0001"),
        ("F-16", "F0016"),
        ("fallo 1", "F0001"),
        ("Falla 16", "F0016"),
        ("fault 16", "F0016"),
        ("error 2", "F0002"),
        ("fallo nº 16", "F0016"),
        ("código de falla 16", "F0016"),
        ("0016", "F0016"),
        ("16", "F0016"),
        ("2202", "2202"),
        ("22.02", "2202"),
        ("22,02", "2202"),
        ("22 02", "2202"),
        ("4.01", "0401"),
        ("par 2202", "2202"),
        ("parámetro 22.02", "2202"),
        ("parametro 2202", "2202"),
        ("P2202", "2202"),
        ("p 22.02", "2202"),
        ("parameter 2202", "2202"),
        ("2310h", "F0001"),
        ("2310 h", "F0001"),
        ("0x2310", "F0001"),
        ("0X3130", "F0022"),
        ("ff84h", "F0011"),
        ("A2010", "A2010"),
        ("a2010", "A2010"),
        ("alarma 2010", "A2010"),
        ("alarm 2010", "A2010"),
        ("alarma 10", "A2010"),
        ("warning 2012", "A2012"),
        ("  F0001?  ", "F0001"),
        ("ACS150-03E-04A7-2", "rating-03x-04a7-2"),
        ("acs150-01u-09a8-2", "rating-01x-09a8-2"),
        ("03E-08A8-4", "rating-03x-08a8-4"),
    ],
)
def test_first_reading(raw: str, first: str) -> None:
    assert candidates(raw, hex_map=HEX)[0] == first


@pytest.mark.parametrize(
    ("raw", "readings"),
    [
        # a bare 4-digit number: parameter first, then alarm, then fieldbus hex
        ("2310", ["2310", "A2310", "F0001"]),
        ("2010", ["2010", "A2010"]),
        # group 00 holds no parameters: the panel's fault number comes first
        ("0016", ["F0016", "0016"]),
        ("401", ["F0401", "0401"]),
        ("3130", ["3130", "F0022"]),
    ],
)
def test_ambiguous_numbers_give_every_reading(raw: str, readings: list[str]) -> None:
    assert candidates(raw, hex_map=HEX) == readings


@pytest.mark.parametrize(
    ("raw", "kind", "readings"),
    [
        ("2310", "fault", ["F2310", "F0001"]),
        ("2310", "parameter", ["2310"]),
        ("16", "parameter", []),
        ("0016", "parameter", ["0016"]),
        ("16", "alarm", ["A2016"]),
        ("F16", "parameter", []),
        ("22.02", "fault", []),
        ("2310h", "parameter", []),
        ("F16", "rating", []),
        ("ACS150-03E-04A7-2", "rating", ["rating-03x-04a7-2"]),
        ("ACS150-03E-04A7-2", "fault", []),
    ],
)
def test_kind_restricts_readings(raw: str, kind: str, readings: list[str]) -> None:
    assert candidates(raw, kind, hex_map=HEX) == readings


def test_hex_needs_a_map() -> None:
    assert candidates("2310h") == []
    assert candidates("2310") == ["2310", "A2310"]


@pytest.mark.parametrize("raw", ["", "hola", "sobrecorriente", "4.7", "12345", "F", "ACS150"])
def test_not_a_code(raw: str) -> None:
    assert candidates(raw, hex_map=HEX) == []


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("El variador muestra F0001 al arrancar la bomba", ["F0001"]),
        ("qué hace el 22.02", ["2202"]),
        ("que hace el parametro 2202?", ["2202"]),
        ("par 22 02 en segundos", ["2202"]),
        ("Me sale el fallo 16 otra vez", ["F0016"]),
        ("salta la falla 2 al frenar", ["F0002"]),
        ("fault code 16 after rain", ["F0016"]),
        ("el master Modbus marca 2310h", ["F0001"]),
        ("error 0x3130 en el PLC", ["F0022"]),
        ("alarma 2010 y luego fallo 9", ["A2010", "F0009"]),
        ("F0009 y luego alarma 2010, después 22.02", ["F0009", "A2010", "2202"]),
        ("A2010 on the panel", ["A2010"]),
        ("sale 0016 en el display", ["F0016"]),
        ("cambiar 2202 a 30 s", ["2202"]),
        ("F1 F0001 fallo 1", ["F0001"]),
        ("código 16", ["F0016"]),
        ("corriente nominal del ACS150-03E-04A7-2?", ["rating-03x-04a7-2"]),
        ("tengo un acs 150 01E 02A4 2", ["rating-01x-02a4-2"]),
        ("el 4.01 muestra el último fallo", ["0401"]),
        ("P 30.17 earth fault", ["3017"]),
    ],
)
def test_extract_codes(text: str, ids: list[str]) -> None:
    assert extract_codes(text, hex_map=HEX) == ids


@pytest.mark.parametrize(
    "text",
    [
        "Lost the 4-20 mA speed reference signal",
        "How much must I derate above 40 °C ambient?",
        "sube a 1800 s la rampa",
        "a 2000 metros de altura",
        "hay que esperar 5 min",
        "el fallo 3 veces seguidas",
        "F 50 Hz",
        "4.7 A de salida",
        "corriente de 16 A",
    ],
)
def test_numbers_that_are_not_codes(text: str) -> None:
    assert extract_codes(text, hex_map=HEX) == []


def test_extract_keeps_the_first_reading_the_base_knows() -> None:
    known = {"F0001", "F0016", "2202", "A2010"}
    assert extract_codes("sale 2310 en el master", known=known, hex_map=HEX) == ["F0001"]
    assert extract_codes("el 2010 parpadea", known=known, hex_map=HEX) == ["A2010"]
    assert extract_codes("el 2024 fue un buen año", known=known, hex_map=HEX) == []


# --- names that hold a number -------------------------------------------------------------------


def _named(ident: str, kind: str, name: str, *keywords: str, title: str = "") -> Entry:
    text = LangText(title=title or name, text="-", keywords=keywords)
    return Entry(ident, kind, name, {"es": text, "en": text}, "acs150", ())


NAMED = [
    _named("F0001", "fault", "OVERCURRENT", "fault 1", "trips on start"),
    _named("F0014", "fault", "EXT FAULT 1", "fault 14", title="External fault 1"),
    _named("3003", "parameter", "EXTERNAL FAULT 1"),
    _named("2205", "parameter", "ACCELER TIME 2", "rampa 2", "4-20 mA"),
    _named("2206", "parameter", "DECELER TIME 2", "rampa 2", "group 22"),
    _named("2201", "parameter", "ACC/DEC 1/2 SEL", "rampa 2", "group 22"),
    _named("2202", "parameter", "ACCELER TIME 1", "group 22"),
    _named("2203", "parameter", "DECELER TIME 1", "group 22"),
]


def test_name_rows_keep_names_with_a_number_few_entries_share() -> None:
    rows = name_rows(NAMED)
    phrases = {phrase for phrase, _ in rows}
    assert {"ext fault 1", "external fault 1", "acceler time 2", "rampa 2"} <= phrases
    assert "group 22" not in phrases  # four entries share it: it names none
    assert "fault 1" not in phrases and "fault 14" not in phrases  # codes are read as codes
    assert "4 20 ma" not in phrases  # a number and a unit are no name
    # the entry whose panel name or title it is comes first, then faults before parameters
    assert [i for p, i in rows if p == "external fault 1"] == ["F0014", "3003"]
    # a user's document is titled after its file, not a panel text
    assert name_rows([_named("doc-x-1", "document", "Pump XY-200 manual")]) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("the drive shows external fault 1 and won't start", [("F0014", "3003")]),
        ("sale EXT FAULT 1 en la pantalla", [("F0014",)]),
        ("ext fault 1 y luego F1", [("F0014",), ("F0001",)]),
        ("fault 1 on start", [("F0001",)]),
        ("F1, ext fault 1, F0001 again", [("F0001",), ("F0014",)]),
        ("la rampa 2 s es corta", []),  # a number with a unit is no name
        ("cambiar la rampa 2", [("2205", "2206", "2201")]),
    ],
)
def test_names_are_read_before_codes(text: str, found: list[tuple[str, ...]]) -> None:
    names = Names(name_rows(NAMED))
    assert mentions(text, known={e.id for e in NAMED}, names=names) == found


def test_extract_codes_reads_names_too() -> None:
    names = Names(name_rows(NAMED))
    assert extract_codes("EXT FAULT 1", names=names) == ["F0014"]
    assert extract_codes("EXT FAULT 1") == ["F0001"]  # without names, "fault 1" is a code


# --- codes named by keywords -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "kind", "ident"),
    [
        ("103", "fault", "F0103"),
        ("F0104", "fault", "F0104"),
        ("fallo 102", "fault", "F0102"),
        ("2010", "alarm", "A2010"),
        ("A2001", "topic", "A2001"),  # a code that says its kind counts anywhere
        ("9902", "topic", None),  # a bare number in a topic names nothing
        ("thermal relay", "fault", None),
    ],
)
def test_keyword_code(keyword: str, kind: str, ident: str | None) -> None:
    assert keyword_code(keyword, kind) == ident


def test_code_aliases_point_codes_without_entry_at_the_entry_naming_them() -> None:
    system = _named("F0101", "fault", "SYSTEM ERROR", "F0102", "103", "fault 104", "F101")
    topic = _named("alarm-list", "topic", "Alarms", "A2001", "F0103", "2222")
    aliases = code_aliases([topic, system, *NAMED])
    assert aliases["F0102"] == "F0101" and aliases["F0104"] == "F0101"
    assert aliases["F0103"] == "F0101"  # a fault entry beats a topic
    assert aliases["A2001"] == "alarm-list"
    assert "F0101" not in aliases and "2222" not in aliases and "F0014" not in aliases
