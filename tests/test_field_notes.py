"""`omar note`: field notes kept before any network call, structured by the model (at once, or
by `omar sync` when offline), found by code, reviewed like answers."""

from __future__ import annotations

import json

import pytest
from scripted_support import ScriptedCli, as_json

from omar_cli.errors import NetworkError
from omar_cli.llm.scripted import ScriptedModel

NOTE = "en la bomba P-3 el F0002 se resolvió alargando 22.03 a 8 s"
REPLY = {
    "codes": ["F0002"],
    "parameters": [{"id": "2203", "value": "8 s"}],
    "symptom": "F0002 al frenar",
    "action": "alargar la deceleración 2203 a 8 s",
    "machine": "bomba P-3",
}


@pytest.fixture
def omar(model: ScriptedModel) -> ScriptedCli:
    return ScriptedCli(model)


def test_offline_note_is_queued_with_the_codes_found_here(
    omar: ScriptedCli, model: ScriptedModel
) -> None:
    kept = omar("note", NOTE, "--offline", "--json")
    assert kept.exit_code == 0, kept.stderr
    doc = as_json(kept)
    note = doc["note"]
    assert note["text"] == NOTE and note["review"]["state"] == "pending"
    assert note["meta"]["kind"] == "note" and doc["queued"] is True
    # "22.03 a 8 s": the parameter written another way, with its value, found offline
    assert doc["structure"]["codes"] == ["F0002"]
    assert doc["structure"]["parameters"] == [{"id": "2203", "value": "8 s"}]
    assert doc["structure"]["status"] == "queued" and doc["structure"]["lang"] == "es"
    (row,) = as_json(omar("review", "--code", "2203", "--json"))["sessions"]
    assert row["id"] == note["session_id"] and row["pending"] == 1
    assert model.requests == []

    model.enqueue(json.dumps(REPLY, ensure_ascii=False))
    synced = omar("sync", "--json")
    assert synced.exit_code == 0, synced.stderr
    (item,) = as_json(synced)["items"]
    assert item["status"] == "structured" and item["question_id"] == note["id"]
    sent = model.last_request
    assert "JSON" in sent.messages[0].text and "Spanish" in sent.messages[0].text
    assert NOTE in sent.last_text
    shown = as_json(omar("review", "show", note["session_id"], "--json"))["messages"][-1]
    assert shown["status"] == "answered" and shown["text"] == NOTE
    structure = shown["meta"]["structure"]
    assert structure["status"] == "done" and structure["machine"] == "bomba P-3"
    assert structure["action"] == "alargar la deceleración 2203 a 8 s"
    assert omar("sync", "--json").exit_code == 0  # nothing left: structured once
    assert len(model.requests) == 1


def test_online_note_is_structured_at_once(omar: ScriptedCli, model: ScriptedModel) -> None:
    model.enqueue("```json\n" + json.dumps(REPLY, ensure_ascii=False) + "\n```")
    kept = omar("note", NOTE)
    assert kept.exit_code == 0, kept.stderr
    assert "bomba P-3" in kept.stdout and "2203 = 8 s" in kept.stdout
    assert "Síntoma: F0002 al frenar" in kept.stdout
    assert model.last_request.temperature == 0 and model.last_request.json_object
    report = omar("review", "export", "--format", "markdown").stdout
    assert "Nota de campo" in report and "- Máquina: bomba P-3" in report


def test_placeholders_a_small_model_copies_are_no_values(
    omar: ScriptedCli, model: ScriptedModel
) -> None:
    model.enqueue(
        '{"codes": ["F0002"], "parameters": [{"id": "2203", "value": "..."}],'
        ' "symptom": "...", "action": "-", "machine": "N/A"}'
    )
    doc = as_json(omar("note", "--json", NOTE))["structure"]
    assert doc["status"] == "done"
    assert (doc["symptom"], doc["action"], doc["machine"]) == (None, None, None)
    assert doc["parameters"] == [{"id": "2203", "value": "8 s"}]  # the note's own value


def test_english_note_asks_for_english(omar: ScriptedCli, model: ScriptedModel) -> None:
    model.enqueue('{"codes": [], "parameters": [], "symptom": "fan noise", "action": null,'
                  ' "machine": "pump P-3"}')  # fmt: skip
    doc = as_json(omar("note", "The fan of the drive at pump P-3 is noisy", "--json"))
    assert "English" in model.last_request.messages[0].text
    assert doc["structure"]["lang"] == "en" and doc["structure"]["symptom"] == "fan noise"


def test_a_reply_that_is_not_the_json_keeps_the_note(
    omar: ScriptedCli, model: ScriptedModel
) -> None:
    model.enqueue("Claro: la nota habla del fallo F0002 en una bomba.")
    kept = omar("note", NOTE, "--json")
    assert kept.exit_code == 0, kept.stderr
    doc = as_json(kept)
    assert doc["note"]["text"] == NOTE and doc["queued"] is False
    assert doc["structure"]["status"] == "invalid"
    assert doc["structure"]["codes"] == ["F0002"]  # the local parse stands
    assert "JSON" in doc["structure"]["error"]
    model.enqueue('{"codes": "F0002"}')  # a list was asked for
    assert as_json(omar("note", NOTE, "--json"))["structure"]["status"] == "invalid"


def test_codes_the_knowledge_lacks_are_left_out(omar: ScriptedCli, model: ScriptedModel) -> None:
    reply = {
        "codes": ["F2", "F0099", "A2010"],
        "parameters": [{"id": "22.02", "value": 5}, {"id": "9999", "value": "1"}, "2203"],
        "symptom": None,
        "action": "x" * 1000,
        "machine": None,
    }
    model.enqueue(json.dumps(reply))
    s = as_json(omar("note", "F0002 y A2010 en la cinta 4", "--json"))["structure"]
    assert s["codes"] == ["F0002", "A2010"]
    assert s["parameters"] == [{"id": "2202", "value": "5"}, {"id": "2203", "value": None}]
    assert s["unknown"] == ["F0099", "9999"]
    assert len(s["action"]) == 300


def test_network_down_queues_the_note_for_sync(omar: ScriptedCli, model: ScriptedModel) -> None:
    model.enqueue_error(NetworkError("no route to host"))
    kept = omar("note", NOTE, "--json")
    assert kept.exit_code == 14
    doc = as_json(kept)
    assert doc["queued"] is True and doc["error"]["type"] == "network"
    assert doc["note"]["text"] == NOTE  # stored before the call
    model.enqueue(json.dumps(REPLY))
    assert as_json(omar("sync", "--json"))["items"][0]["status"] == "structured"


def test_a_note_is_never_part_of_the_chat(omar: ScriptedCli, model: ScriptedModel) -> None:
    kept = as_json(omar("note", NOTE, "--offline", "--json"))
    model.enqueue("Revise la rampa [2203].")
    asked = omar("ask", "¿y la rampa?", "--session", kept["note"]["session_id"])
    assert asked.exit_code == 0, asked.stderr
    assert all(NOTE not in m.text for m in model.last_request.messages)


def test_note_from_stdin_and_from_a_transcript(omar: ScriptedCli, model: ScriptedModel) -> None:
    piped = omar("note", "-", "--json", "--queue", input="F0001 al arrancar: motor en corto\n")
    assert as_json(piped)["note"]["text"] == "F0001 al arrancar: motor en corto"
    assert omar("note").exit_code == 2
    assert omar("note", "   ").exit_code == 6
    asked = omar("note", "--from", as_json(piped)["note"]["id"])
    assert asked.exit_code == 6  # a note is not a transcribed recording
