"""`omar review`: sessions built through the real commands, then listed, shown and reviewed."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from scripted_support import ScriptedCli, as_json

from omar_cli.llm.scripted import ScriptedModel


@pytest.fixture
def model(knowledge_cache: Path, monkeypatch: pytest.MonkeyPatch) -> ScriptedModel:
    monkeypatch.setenv("OMAR_CACHE_DIR", str(knowledge_cache))
    monkeypatch.setenv("OMAR_REVIEWER", "supervisora")
    return ScriptedModel()


@pytest.fixture
def omar(model: ScriptedModel) -> ScriptedCli:
    return ScriptedCli(model)


def ask(omar: ScriptedCli, model: ScriptedModel, question: str, answer: str) -> dict[str, Any]:
    model.enqueue(answer)
    result = omar("ask", "--new", question, "--json")
    assert result.exit_code == 0, result.stderr
    return as_json(result)


def sessions(omar: ScriptedCli, *args: str) -> list[dict[str, Any]]:
    result = omar("review", *args, "--json")
    assert result.exit_code == 0, result.stderr
    listed = as_json(result)["sessions"]
    assert isinstance(listed, list)
    return listed


def test_list_filters_and_counts(omar: ScriptedCli, model: ScriptedModel) -> None:
    first = ask(omar, model, "¿Qué es F0002?", "Sobretensión en el bus [F0002].")
    second = ask(omar, model, "¿Cómo ajusto la rampa 2203?", "Alargue la rampa [2203].")
    listed = sessions(omar)
    assert [s["id"] for s in listed] == [second["session_id"], first["session_id"]]
    assert listed[1]["pending"] == 1 and listed[1]["approved"] == 0
    assert "F0002" in listed[1]["codes"]
    assert [s["id"] for s in sessions(omar, "--code", "f0002")] == [first["session_id"]]
    assert [s["id"] for s in sessions(omar, "list", "--text", "rampa")] == [second["session_id"]]
    assert sessions(omar, "--status", "approved") == []
    assert len(sessions(omar, "--since", "1d")) == 2
    assert sessions(omar, "--until", "2000-01-01") == []
    bad = omar("review", "--status", "bogus")
    assert bad.exit_code == 2 and "bogus" in bad.stderr


def test_show_with_a_short_prefix(omar: ScriptedCli, model: ScriptedModel) -> None:
    asked = ask(omar, model, "¿Qué es F0002?", "Sobretensión en el bus [F0002].")
    prefix = asked["session_id"][:-3]
    result = omar("review", "show", prefix, "--json")
    assert result.exit_code == 0, result.stderr
    doc = as_json(result)
    question, answer = doc["messages"]
    assert answer["reply_to"] == question["id"]
    assert answer["review"]["state"] == "pending"
    assert "F0002" in answer["provenance"]["grounding"]["text"]
    text = omar("review", "show", prefix)
    assert text.exit_code == 0 and "Sobretensión" in text.stdout
    assert "F0002" in text.stdout.split("---")[-1]
    missing = omar("review", "show", "1999")
    assert missing.exit_code == 3 and missing.stdout == ""


def test_ambiguous_prefix_is_refused(omar: ScriptedCli, model: ScriptedModel) -> None:
    ask(omar, model, "F0001", "Sobrecorriente [F0001].")
    ask(omar, model, "F0002", "Sobretensión [F0002].")
    result = omar("review", "show", "2")
    assert result.exit_code == 2 and "2" in result.stderr


def test_approve_reject_edit_keep_the_original(
    omar: ScriptedCli, model: ScriptedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = ask(omar, model, "¿Qué es F0002?", "Sobretensión en el bus [F0002].")
    item = f"{asked['session_id'][:10]}.{asked['message_id'].rsplit('.', 1)[1]}"
    approved = as_json(omar("review", "approve", item, "--note", "bien", "--json"))["item"]
    assert approved["review"]["state"] == "approved"
    assert approved["review"]["note"] == "bien" and approved["review"]["reviewer"] == "supervisora"
    assert [s["approved"] for s in sessions(omar, "--status", "approved")] == [1]
    rejected = as_json(omar("review", "reject", item, "--json"))["item"]
    assert rejected["review"]["state"] == "rejected" and rejected["review"]["note"] == "bien"
    edited = as_json(omar("review", "edit", item, "--text", "Alargue 2203.", "--json"))["item"]
    assert edited["review"]["corrected_text"] == "Alargue 2203."
    assert edited["text"].startswith("Sobretensión en el bus [F0002].")
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "Texto del editor\\n" > "$1"\n', encoding="utf-8")
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.setenv("VISUAL", str(editor))
    by_editor = omar("review", "edit", asked["message_id"], "--json")
    assert by_editor.exit_code == 0, by_editor.stderr
    review = as_json(by_editor)["item"]["review"]
    assert review["corrected_text"] == "Texto del editor\n" and review["state"] == "edited"
    question = omar("review", "approve", asked["question_id"])
    assert question.exit_code == 6 and "pregunta" in question.stderr


def test_queue_is_driven_by_input(
    omar: ScriptedCli, model: ScriptedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [
        ask(omar, model, f"¿Qué es {code}?", f"Vea [{code}].")["message_id"]
        for code in ("F0001", "F0002", "F0003", "F0004")
    ]
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "Corregido\\n" > "$1"\n', encoding="utf-8")
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.setenv("VISUAL", str(editor))
    result = omar("review", "queue", input="a\nx\nr\ne\nq\n")
    assert result.exit_code == 0, result.stderr
    assert "1 " in result.stdout
    states = {}
    for message_id in ids:
        shown = as_json(omar("review", "show", message_id.split(".")[0], "--json"))
        states[message_id] = shown["messages"][-1]["review"]
    assert [states[i]["state"] for i in ids] == ["approved", "rejected", "edited", "pending"]
    assert states[ids[2]]["corrected_text"] == "Corregido\n"
    again = omar("review", "queue", input="s\n")  # skip the last, then end of input
    assert again.exit_code == 0
    assert [s["pending"] for s in sessions(omar, "--status", "pending")] == [1]
    assert os.environ["OMAR_REVIEWER"] == "supervisora"


def test_queue_on_a_terminal_takes_single_keys(omar: ScriptedCli, model: ScriptedModel) -> None:
    from terminal import run_on_terminal

    first = ask(omar, model, "¿Qué es F0001?", "Vea [F0001].")
    second = ask(omar, model, "¿Qué es F0002?", "Vea [F0002].")
    run = run_on_terminal("review", "queue", typed="ar")  # no Enter: one keypress each
    assert run.returncode == 0, run.stderr
    states = [
        as_json(omar("review", "show", a["session_id"], "--json"))["messages"][-1]["review"]
        for a in (first, second)
    ]
    assert [s["state"] for s in states] == ["approved", "rejected"]
