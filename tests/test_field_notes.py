"""`omar note`: field notes kept pending review, found by code, reviewed like answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from scripted_support import ScriptedCli, as_json

from omar_cli.llm.scripted import ScriptedModel


@pytest.fixture
def model(knowledge_cache: Path, monkeypatch: pytest.MonkeyPatch) -> ScriptedModel:
    monkeypatch.setenv("OMAR_CACHE_DIR", str(knowledge_cache))
    return ScriptedModel()


@pytest.fixture
def omar(model: ScriptedModel) -> ScriptedCli:
    return ScriptedCli(model)


def test_note_is_reviewable_and_found_by_code(omar: ScriptedCli, model: ScriptedModel) -> None:
    text = "en la bomba P-3 el F0002 se resolvió alargando 2203 a 8 s"
    kept = omar("note", text, "--json")
    assert kept.exit_code == 0, kept.stderr
    note = as_json(kept)["note"]
    assert note["text"] == text and note["review"]["state"] == "pending"
    assert note["meta"]["kind"] == "note" and note["status"] == "answered"
    (row,) = as_json(omar("review", "--code", "2203", "--json"))["sessions"]
    assert row["id"] == note["session_id"] and row["pending"] == 1
    assert omar("review", "approve", note["id"], "--reviewer", "ana").exit_code == 0
    report = omar("review", "export", "--format", "markdown").stdout
    assert "Nota de campo" in report and text in report
    assert omar("sync", "--json").exit_code in (0, 9)  # a note is never sent as a question
    assert model.requests == []


def test_note_from_stdin_and_from_a_transcript(omar: ScriptedCli, model: ScriptedModel) -> None:
    piped = omar("note", "-", "--json", input="F0001 al arrancar: motor en corto\n")
    assert as_json(piped)["note"]["text"] == "F0001 al arrancar: motor en corto"
    assert omar("note").exit_code == 2
    assert omar("note", "   ").exit_code == 6
    asked = omar("note", "--from", as_json(piped)["note"]["id"])
    assert asked.exit_code == 6  # a note is not a transcribed recording
