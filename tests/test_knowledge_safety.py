"""Safety rules over every entry of the built-in knowledge, by general rules on the wording.

A check that puts hands on the drive, motor, cables, fuses, resistor or terminals must travel
with a safety note in both languages; every safety note names the 5-minute DC-link wait; a
check that measures with the supply on carries the live-work warning; an entry that tells how
to switch a protection off also says why not to.
"""

from __future__ import annotations

import re

import pytest

from omar_cli.knowledge.loader import builtin_dir, load_entries
from omar_cli.knowledge.model import Entry

ENTRIES = load_entries(builtin_dir())

#: words that mean hands on hardware, as stems at the start of a word, in both languages
_HANDS_ON = re.compile(
    r"\b(?:cabl|wir(?:e|ing)|terminal|motor|fuse|resistor|measur|insulat|megger|connect|"
    r"open|fan\b|heatsink|clean|mechanic|coupling|brake|contactor|disconnect|retighten|"
    r"borne|fusible|resistencia|medi[rd]|mida|aislamiento|conexi|conect|abr(?:a|ir|e)\b|"
    r"ventilador|disipador|limpi|mecáni|acoplamiento|freno|desconect|reapriet|apriet)",
    re.IGNORECASE,
)
#: measuring the supply while it is on
_LIVE_MEASURE = re.compile(
    r"(?:measur\w*|mida|medir)\b.*\b(?:mains|supply|input phases|powered|red|alimentación|"
    r"fases de entrada|alimentado)",
    re.IGNORECASE,
)
_QUALIFIED = re.compile(r"qualified|cualificad", re.IGNORECASE)
_METER = re.compile(r"\bmeter\b|polímetro|multímetro", re.IGNORECASE)
_WAIT = re.compile(r"\b5 min", re.IGNORECASE)
#: an entry that tells how to turn a protection or supervision off
_TURN_OFF = re.compile(
    r"\bNOT SEL disables\b|\bdisables? (?:it|the)\b|switch(?:ing)? (?:it )?off|"
    r"\bdisable\w*\b",
    re.IGNORECASE,
)
_WHY_NOT = re.compile(
    r"not a fix|not advisable|is risky|no longer|would (?:then )?|go undetected|without it|"
    r"more likely|never replaces",
    re.IGNORECASE,
)


def turns_off(entry: Entry) -> bool:
    """Disables something, or is a fault function (group 30) that can be set to NOT SEL."""
    text = entry.lang["en"].text
    return bool(_TURN_OFF.search(text)) or (entry.id.startswith("30") and "NOT SEL" in text)


def test_protections_that_can_be_turned_off_are_found() -> None:
    found = {e.id for e in ENTRIES if e.kind == "parameter" and turns_off(e)}
    assert {"3001", "3003", "3005", "3010", "3017", "2005"} <= found


def hands_on(entry: Entry) -> list[str]:
    checks = [c for lang in ("es", "en") for c in entry.lang[lang].checks]
    return [c for c in checks if _HANDS_ON.search(c)]


def test_the_rule_sees_hands_on_checks() -> None:
    assert _HANDS_ON.search("Inspect the motor cable and its terminals")
    assert _HANDS_ON.search("Revise los bornes y el fusible")
    assert not _HANDS_ON.search("Check 3010…3012.")
    assert _LIVE_MEASURE.search("Mida la tensión de red en las tres fases")
    assert not _LIVE_MEASURE.search("Measure continuity and resistance of the three motor phases")


def test_there_are_hands_on_entries_to_check() -> None:
    assert sum(1 for e in ENTRIES if hands_on(e)) >= 20


@pytest.mark.parametrize("entry", [e for e in ENTRIES if hands_on(e)], ids=lambda e: e.id)
def test_hands_on_checks_carry_a_safety_note_in_both_languages(entry: Entry) -> None:
    for lang in ("es", "en"):
        assert entry.lang[lang].safety, (entry.id, lang, hands_on(entry)[0])


@pytest.mark.parametrize(
    "entry", [e for e in ENTRIES if e.lang["en"].safety or e.lang["es"].safety], ids=lambda e: e.id
)
def test_every_safety_note_names_the_five_minute_wait(entry: Entry) -> None:
    for lang in ("es", "en"):
        note = entry.lang[lang].safety
        assert note and _WAIT.search(note), (entry.id, lang, note)


@pytest.mark.parametrize(
    "entry",
    [e for e in ENTRIES if any(_LIVE_MEASURE.search(c) for c in e.lang["en"].checks)],
    ids=lambda e: e.id,
)
def test_live_measurements_carry_the_live_work_warning(entry: Entry) -> None:
    for lang in ("es", "en"):
        note = entry.lang[lang].safety or ""
        assert _QUALIFIED.search(note) and _METER.search(note), (entry.id, lang)


def test_spanish_live_measurements_are_flagged_too() -> None:
    for entry in ENTRIES:
        if any(_LIVE_MEASURE.search(c) for c in entry.lang["es"].checks):
            assert _QUALIFIED.search(entry.lang["es"].safety or ""), entry.id


@pytest.mark.parametrize(
    "entry",
    [e for e in ENTRIES if e.kind == "parameter" and turns_off(e)],
    ids=lambda e: e.id,
)
def test_turning_a_protection_off_says_why_not(entry: Entry) -> None:
    assert _WHY_NOT.search(entry.lang["en"].text), entry.id


@pytest.mark.parametrize("ident", ["F0003", "F0006", "F0009", "F0012", "F0014", "F0015"])
def test_the_sheets_named_in_the_issue_have_their_note(ident: str) -> None:
    entry = next(e for e in ENTRIES if e.id == ident)
    assert entry.lang["es"].safety and entry.lang["en"].safety
