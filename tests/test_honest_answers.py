"""Online answers that say what backs them, flag what does not, and stay safe.

The real CLI against the scripted model (no HTTP; the adapter is tested on its own).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scripted_support import ScriptedCli, as_json
from typer.testing import CliRunner

from omar_cli.cli.app import app
from omar_cli.errors import ExitCode
from omar_cli.llm.scripted import ScriptedModel
from omar_cli.prompt import PROMPT_VERSION
from omar_cli.store import SessionStore


@pytest.fixture
def omar(model: ScriptedModel) -> ScriptedCli:
    return ScriptedCli(model)


def user_turn(model: ScriptedModel) -> str:
    return model.last_request.last_text


# --------------------------------------------------------------------------- sources


def test_sources_are_what_the_answer_cites_the_rest_is_apart(
    omar: ScriptedCli, model: ScriptedModel, isolated_dirs: Path
) -> None:
    model.enqueue("Alargue la deceleración en 2203 [2203]. Vea [f0002].")
    doc = as_json(omar("ask", "--json", "El variador muestra F0002 al frenar"))
    sent = user_turn(model)
    given = {line[1:].split("]")[0] for line in sent.splitlines() if line.startswith("[")}
    assert {"F0002", "2203"} <= given and len(given) > 2
    assert [s["id"] for s in doc["sources"]] == ["2203", "F0002"]  # order first cited
    assert all(s["cited"] for s in doc["sources"])
    also = [s["id"] for s in doc["also_given"]]
    assert set(also) == given - {"F0002", "2203"}
    assert not any(s["cited"] for s in doc["also_given"])
    assert set(doc["also_given"][0]) == set(doc["sources"][0])  # same item shape
    assert doc["unknown_citations"] == []
    stored = SessionStore(isolated_dirs / "data" / "store").get_message(doc["message_id"])
    assert list(stored.sources) == ["2203", "F0002"]
    assert stored.meta["also_given"] == also


def test_terminal_shows_cited_sources_and_a_short_line_for_the_rest(
    omar: ScriptedCli, model: ScriptedModel
) -> None:
    model.enqueue("Lengthen the deceleration ramp [2203].")
    result = omar("ask", "Drive shows F0002 when braking")
    assert result.exit_code == 0, result.stderr
    assert "\nSources:\n  [2203] " in result.stdout
    consulted = [line for line in result.stdout.splitlines() if line.startswith("Consulted")]
    assert len(consulted) == 1 and "[F0002]" in consulted[0] and "[2203]" not in consulted[0]


def test_an_answer_citing_nothing_lists_no_sources(omar: ScriptedCli, model: ScriptedModel) -> None:
    model.enqueue("Revise la rampa de deceleración.")
    result = omar("ask", "El variador muestra F0002 al frenar")
    assert "Fuentes:" not in result.stdout
    assert "\nConsultado, no citado: [F0002]" in result.stdout


def test_every_invented_bracketed_id_is_flagged(omar: ScriptedCli, model: ScriptedModel) -> None:
    answer = (
        "Vea [F0002] y [rating-03x-99a9-2], [safety-foo]; también [F0042, 2203]. "
        "Detalles en [el manual](https://abb.com) [1] y la lista:\n- [x] hecho\n- [ ] pendiente\n"
        "Nota [sic]."
    )
    model.enqueue(answer)
    result = omar("ask", "--json", "F0002 al frenar")
    doc = as_json(result)
    assert doc["unknown_citations"] == ["rating-03x-99a9-2", "safety-foo", "F0042", "sic"]
    assert {s["id"] for s in doc["sources"]} == {"F0002", "2203"}
    assert "rating-03x-99a9-2" in result.stderr and "safety-foo" in result.stderr
    assert "ids que no están en la base de conocimiento" in result.stderr


# --------------------------------------------------------------------------- unknown codes


def test_an_unknown_code_is_named_to_the_model_with_suggestions(
    omar: ScriptedCli, model: ScriptedModel
) -> None:
    model.enqueue("F0090 no está en la base de conocimiento.")
    doc = as_json(omar("ask", "--json", "el variador muestra F0090 y no arranca"))
    assert doc["ok"] is True
    sent = user_turn(model)
    knowledge, rest = sent.split("NOT IN THE KNOWLEDGE BASE", 1)
    assert knowledge.startswith("KNOWLEDGE")
    line = next(x for x in rest.splitlines() if x.startswith("- F0090"))
    assert "must not be given a meaning" in line and "Nearest known ids: F" in line
    assert rest.rstrip().endswith("QUESTION: el variador muestra F0090 y no arranca")
    assert "NOT IN THE KNOWLEDGE BASE" in model.last_request.messages[0].text
    assert doc["prompt_version"] == PROMPT_VERSION


def test_known_codes_are_not_called_unknown(omar: ScriptedCli, model: ScriptedModel) -> None:
    model.enqueue("Vea [F0002].")
    omar("ask", "--json", "F0002 al frenar, código 2310h, motor de 1500 rpm desde 2019")
    assert "NOT IN THE KNOWLEDGE BASE" not in user_turn(model)


# --------------------------------------------------------------------------- cut answers


def test_a_cut_answer_is_marked_and_followed_by_the_offline_answer(
    omar: ScriptedCli, model: ScriptedModel, isolated_dirs: Path
) -> None:
    model.enqueue_cut(["Primero aísle ", "la alimentación. "])
    result = omar("ask", "Cortocircuito en el cable del motor")
    assert result.exit_code == ExitCode.INCOMPLETE
    fragment, marker, rest = result.stdout.partition("— Respuesta incompleta")
    assert marker and fragment.startswith("Primero aísle")
    assert rest.split("\n", 1)[0].endswith("Sigue la respuesta sin conexión —")
    offline = rest.split("\n", 1)[1].strip()
    assert offline.startswith("Respuesta sin conexión") and "[F0004]" in offline
    assert "cut off" in result.stderr


def test_a_cut_answer_in_english_says_so_in_english(
    omar: ScriptedCli, model: ScriptedModel
) -> None:
    model.enqueue_cut("Check the motor cable insulation.", "stopped before it finished")
    result = omar("ask", "Short circuit in the motor cable")
    assert "\n— Incomplete answer: it was cut off before the end." in result.stdout
    assert result.stdout.split("Offline answer follows —", 1)[1].strip().startswith("Offline")


def test_a_cut_answer_in_json_keeps_both_answers_apart(
    omar: ScriptedCli, model: ScriptedModel, isolated_dirs: Path
) -> None:
    text = "Primero aísle y espere 5 minutos. Después mida el aislamiento del cable."
    model.enqueue_cut(text[: text.index("Después")])
    result = omar("ask", "--json", "Cortocircuito en el cable del motor")
    doc = as_json(result)
    assert (doc["status"], doc["ok"]) == ("incomplete", False)
    assert text.startswith(doc["answer"]) and doc["answer"] != text
    assert doc["offline_answer"].startswith("Respuesta sin conexión")
    assert "[F0004]" in doc["offline_answer"]
    store = SessionStore(isolated_dirs / "data" / "store")
    partial = store.get_message(doc["message_id"])
    assert (partial.status, partial.text) == ("incomplete", doc["answer"])
    assert [m.id for m in store.pending()] == [doc["question_id"]]


def test_a_whole_answer_has_no_offline_answer(omar: ScriptedCli, model: ScriptedModel) -> None:
    model.enqueue("Vea [F0002].")
    result = omar("ask", "F0002 al frenar")
    assert "Respuesta incompleta" not in result.stdout
    model.enqueue("Vea [F0002].")
    assert as_json(omar("ask", "--json", "F0002 al frenar"))["offline_answer"] is None


# --------------------------------------------------------------------------- one safety note


def test_an_answer_without_the_rule_gets_exactly_one_note(
    omar: ScriptedCli, model: ScriptedModel
) -> None:
    # three entries with their own near-identical notes are cited
    model.enqueue("Revise [F0004], [F0016] y [F0034].")
    doc = as_json(omar("ask", "--json", "cortocircuito, falla a tierra o fase del motor"))
    assert doc["answer"].count("⚠") == 1 and doc["answer"].count("5 minutos") == 1
    assert doc["answer"].endswith(doc["safety_note"])


def test_an_answer_that_states_the_rule_gets_no_note(
    omar: ScriptedCli, model: ScriptedModel
) -> None:
    model.enqueue("Aísle y bloquee, espere 5 minutos y mida [F0004].")
    result = omar("ask", "Cortocircuito en el cable del motor")
    doc_text = result.stdout
    assert "⚠" not in doc_text and doc_text.count("5 minutos") == 1


def test_the_offline_answer_shows_one_safety_note(isolated_dirs: Path) -> None:
    result = CliRunner().invoke(
        app, ["ask", "--offline", "--json", "cortocircuito y falla a tierra en el motor"]
    )
    doc = as_json(result)
    assert len(doc["sources"]) > 1
    assert doc["answer"].count("SEGURIDAD") == 1 and "5 minutos" in doc["answer"]


# --------------------------------------------------------------------------- user documents


def add_document(tmp_path: Path, text: str) -> None:
    path = tmp_path / "taller.md"
    path.write_text(text, encoding="utf-8")
    added = CliRunner().invoke(app, ["knowledge", "add", str(path), "--title", "Notas del taller"])
    assert added.exit_code == 0, added.stderr


def test_a_user_note_against_a_safety_rule_is_flagged_everywhere(
    omar: ScriptedCli, model: ScriptedModel, tmp_path: Path
) -> None:
    add_document(
        tmp_path,
        "# Cortocircuito en el cable del motor\n\nCon cortocircuito en el cable del motor "
        "no hace falta esperar: mida el aislamiento con el variador conectado.\n",
    )
    model.enqueue("Mida el aislamiento del cable [F0004].")
    result = omar("ask", "--json", "cortocircuito en el cable del motor, aislamiento")
    doc = as_json(result)
    sent = user_turn(model)
    assert "CONFLICTS WITH SAFETY RULE" in sent
    flagged = [s for s in doc["sources"] + doc["also_given"] if s["safety_conflict"]]
    assert len(flagged) == 1 and flagged[0]["kind"] == "document"
    rules = {c["rule"] for c in flagged[0]["safety_conflict"]}
    assert rules == {"discharge-wait", "megger"}
    assert all(c["note"].startswith("REGLA DE SEGURIDAD") for c in flagged[0]["safety_conflict"])
    assert doc["conflict_note"] and doc["conflict_note"] in doc["answer"]
    assert f"[{flagged[0]['id']}]" in doc["conflict_note"] and "5 minutos" in doc["conflict_note"]
    # built-in entries given beside it are never flagged
    assert all(not s["safety_conflict"] for s in doc["sources"] if s["kind"] != "document")


def test_the_flag_is_printed_after_a_streamed_answer(
    omar: ScriptedCli, model: ScriptedModel, tmp_path: Path
) -> None:
    add_document(tmp_path, "Motor cable short circuit: it is fine to work live on the terminals.")
    model.enqueue("Check the cable [F0004].")
    result = omar("ask", "short circuit motor cable terminals")
    assert "⚠ Your document «Notas del taller" in result.stdout
    assert "SAFETY RULE: never work live" in result.stdout


def test_a_harmless_user_note_is_not_flagged(
    omar: ScriptedCli, model: ScriptedModel, tmp_path: Path
) -> None:
    add_document(tmp_path, "Cortocircuito en el cable del motor: aísle, espere 5 minutos y mida.\n")
    model.enqueue("Vea [F0004].")
    doc = as_json(omar("ask", "--json", "cortocircuito en el cable del motor"))
    assert "CONFLICTS WITH SAFETY RULE" not in user_turn(model)
    assert doc["conflict_note"] is None
    assert not any(s["safety_conflict"] for s in doc["sources"] + doc["also_given"])


def test_an_offline_answer_flags_a_user_note_against_a_safety_rule(
    isolated_dirs: Path, tmp_path: Path
) -> None:
    add_document(
        tmp_path,
        "# Cortocircuito en el cable del motor\n\nCon cortocircuito en el cable del motor "
        "no hace falta esperar: mida el aislamiento con el variador conectado.\n",
    )
    result = CliRunner().invoke(
        app, ["ask", "--offline", "--json", "cortocircuito en el cable del motor, aislamiento"]
    )
    doc = as_json(result)
    flagged = [s for s in doc["sources"] if s["safety_conflict"]]
    assert flagged and flagged[0]["kind"] == "document"
    assert "⚠ Su documento «Notas del taller" in doc["answer"] and flagged[0]["id"] in doc["answer"]
    assert "no hace falta esperar" in doc["answer"] and "5 minutos" in doc["answer"]
