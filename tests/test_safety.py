"""Safety conflicts in text (both languages) and the one safety note an answer carries."""

from __future__ import annotations

import pytest

from omar_cli.knowledge.loader import builtin_dir, load_entries
from omar_cli.knowledge.model import Entry, LangText, Source
from omar_cli.knowledge.offline import labels_in
from omar_cli.knowledge.safety import RULES, conflicts, one_note, rule_note, states_rule

POSITIVE = [
    # the DC-link wait
    ("No hace falta esperar, los condensadores se descargan solos.", "discharge-wait"),
    ("Se puede abrir la tapa sin esperar.", "discharge-wait"),
    ("Espere 30 segundos a que se descargue el bus de continua antes de tocar.", "discharge-wait"),
    ("Basta con esperar un minuto tras cortar para abrir el variador.", "discharge-wait"),
    ("Los condensadores se descargan de inmediato al cortar la red.", "discharge-wait"),
    ("There is no need to wait before touching the terminals.", "discharge-wait"),
    ("You don't need to wait for the capacitors.", "discharge-wait"),
    ("Wait 2 minutes for the DC link to discharge, then open the cover.", "discharge-wait"),
    ("The capacitors discharge in 60 s, so you can touch the terminals.", "discharge-wait"),
    ("After switching off you can touch the terminals immediately.", "discharge-wait"),
    ("Wait one minute after switching off before touching the terminals.", "discharge-wait"),
    # live work
    ("Se pueden reapretar los bornes con tensión si se tiene cuidado.", "live-work"),
    ("Cambie el ventilador en caliente.", "live-work"),
    ("No hace falta cortar la alimentación para cambiar el cable de control.", "live-work"),
    ("Desconecte el motor con el variador encendido.", "live-work"),
    ("It is fine to work live on the control terminals.", "live-work"),
    ("You can tighten the motor terminals while the power is on.", "live-work"),
    ("No need to isolate the drive for this job.", "live-work"),
    ("Replace the fan without switching off the supply.", "live-work"),
    # protections
    ("Si dispara mucho, desactive la protección de falla a tierra.", "protection"),
    ("Ponga 3017 a NOT SEL para que no dispare.", "protection"),
    ("Puentee el relé térmico para terminar el turno.", "protection"),
    ("La protección térmica se puede desactivar si molesta.", "protection"),
    ("Disable the earth fault protection to stop nuisance trips.", "protection"),
    ("Jumper out the interlock so the machine keeps running.", "protection"),
    ("The thermal protection can be bypassed with parameter 3005.", "protection"),
    ("Set 3017 to NOT SEL.", "protection"),
    # megger
    ("Haga la prueba de aislamiento con el variador conectado.", "megger"),
    ("Mida el aislamiento desde los bornes del variador con el megóhmetro.", "megger"),
    ("Megger the motor through the drive to save time.", "megger"),
    ("Run the insulation test at the drive output terminals.", "megger"),
    ("You can megger the cable without disconnecting the drive.", "megger"),
    # output contactor
    (
        "Use un contactor en la salida para invertir el giro con el motor en marcha.",
        "output-contactor",
    ),
    ("No hace falta parar el variador para abrir el contactor de salida.", "output-contactor"),
    ("Open the output contactor while the motor is running.", "output-contactor"),
    (
        "Fit a reversing contactor between the drive and the motor to change direction.",
        "output-contactor",
    ),
]

NEGATIVE = [
    "Espere al menos 5 minutos a que se descarguen los condensadores.",
    "Espere 10 minutos antes de abrir la tapa.",
    "Nunca trabaje sin esperar 5 minutos tras cortar la alimentación.",
    "Wait at least 5 minutes before touching the terminals.",
    "Never open the cover without waiting 5 minutes.",
    "Do not wait less than five minutes.",
    "Wait 2 minutes for the motor to cool down.",  # no discharge or touching: not the rule
    "Espere 1 minuto a que el motor se enfríe antes de tocarlo.",
    "La rampa de aceleración tarda 5 segundos.",
    "No toque los bornes con tensión.",
    "Nunca trabaje con tensión.",
    "Never work live on the drive.",
    "Do not touch the terminals while the power is on.",
    "Mida la tensión de red entre U1, V1 y W1 con un multímetro adecuado.",
    "Measure the supply voltage at U1/V1/W1 with a suitable meter.",
    "Aísle, bloquee y etiquete el seccionador.",
    "Switch off the supply and lock out the disconnector.",
    "Nunca desactive la protección de falla a tierra.",
    "Never disable the earth fault protection; find the cause instead.",
    "Do not bypass interlocks.",
    "La protección térmica del motor protege el cable.",
    "Parameter 3017 selects how the drive reacts to an earth fault.",
    "Desconecte el variador antes de medir el aislamiento.",
    "Disconnect the drive before meggering the motor.",
    "Never megger through the drive.",
    "Nunca conmute un contactor en la salida con el variador en marcha.",
    "Never open the output contactor while the drive is running.",
    "Use the drive's own direction command to reverse the motor.",
    "El contactor de entrada se usa para cortar la red.",
    "Set the acceleration time 2202 to 5 s.",
    "Remove the fuses after switching off the supply.",
]


@pytest.mark.parametrize(("sentence", "rule"), POSITIVE)
def test_sentences_that_break_a_rule_are_found(sentence: str, rule: str) -> None:
    found = conflicts(sentence, "es")
    assert [c.rule for c in found] == [rule], sentence
    assert found[0].sentence == sentence
    assert found[0].note == rule_note(rule, "es") and "REGLA DE SEGURIDAD" in found[0].note


@pytest.mark.parametrize("sentence", NEGATIVE)
def test_sentences_that_keep_the_rules_are_not_flagged(sentence: str) -> None:
    assert conflicts(sentence, "en") == ()


def test_each_sentence_of_a_document_is_judged_apart() -> None:
    text = (
        "Procedimiento del taller.\nCorte la red. No hace falta esperar.\n"
        "Luego mida el aislamiento con el variador conectado. Anote el valor."
    )
    found = conflicts(text, "en")
    assert [(c.rule, c.sentence) for c in found] == [
        ("discharge-wait", "No hace falta esperar."),
        ("megger", "Luego mida el aislamiento con el variador conectado."),
    ]
    assert all(c.note.startswith("SAFETY RULE:") for c in found)


def test_every_rule_names_the_wait_or_the_reason_in_both_languages() -> None:
    for rule, text in RULES.items():
        assert set(text) == {"es", "en"}, rule
    assert "5 min" in RULES["discharge-wait"]["es"] and "5 min" in RULES["live-work"]["en"]


GENERAL = {lang: labels_in(lang)["general_safety"] for lang in ("es", "en")}


def entry(safety_es: str | None, kind: str = "fault", ident: str = "F9999") -> Entry:
    text = LangText(title="t", text="x", safety=safety_es)
    return Entry(ident, kind, "N", {"es": text, "en": text}, "acs150", (Source("doc"),))


def test_one_note_uses_the_best_entrys_note_when_it_states_the_rule() -> None:
    entries = {e.id: e for e in load_entries(builtin_dir())}
    note = one_note(
        [entries["F0002"], entries["F0004"], entries["F0016"]],
        "es",
        general=GENERAL["es"],
        hands_on=True,
    )
    assert note == entries["F0002"].text_in("es").safety
    assert note is not None and states_rule(note) and "caliente" in note


def test_a_note_without_the_wait_is_merged_into_the_general_rule() -> None:
    note = one_note(
        [entry("La resistencia puede estar muy caliente.")],
        "es",
        general=GENERAL["es"],
        hands_on=True,
    )
    assert note is not None and states_rule(note)
    assert note.count("5 minutos") == 1 and note.endswith(
        "La resistencia puede estar muy caliente."
    )


def test_no_note_gives_the_general_rule_only_for_hands_on_answers() -> None:
    assert one_note([entry(None)], "en", general=GENERAL["en"], hands_on=False) is None
    note = one_note([entry(None)], "en", general=GENERAL["en"], hands_on=True)
    assert note is not None and "5 minutes" in note and states_rule(note)


def test_states_rule_needs_both_the_wait_and_the_isolation() -> None:
    assert states_rule("Aísle y bloquee; espere 5 minutos.")
    assert states_rule("Isolate and wait five minutes.")
    assert not states_rule("Espere 5 minutos.")
    assert not states_rule("Lock out the supply.")
