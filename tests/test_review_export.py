"""`omar review export`: fine-tuning JSONL checked line by line against OpenAI's rules."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from scripted_support import ScriptedCli, as_json

from omar_cli.llm.scripted import ScriptedModel

JPEG = b"\xff\xd8\xff\xe0" + b"photo-of-the-display"


@pytest.fixture
def omar(model: ScriptedModel) -> ScriptedCli:
    return ScriptedCli(model)


def check_finetune_line(line: str) -> dict[str, Any]:
    """OpenAI's chat fine-tuning rules for one JSONL line (the ones a file upload checks)."""
    example = json.loads(line)
    assert isinstance(example, dict) and set(example) == {"messages"}
    messages = example["messages"]
    assert isinstance(messages, list) and messages
    assert any(m["role"] == "assistant" for m in messages)
    for m in messages:
        assert set(m) <= {"role", "content", "name", "weight"}
        assert m["role"] in {"system", "user", "assistant"}
        content = m["content"]
        if isinstance(content, str):
            assert content.strip()
            continue
        assert m["role"] == "user", "image parts only in user turns"
        assert isinstance(content, list) and content
        for part in content:
            assert part["type"] in {"text", "image_url"}
            if part["type"] == "text":
                assert set(part) == {"type", "text"} and part["text"].strip()
            else:
                assert set(part) == {"type", "image_url"}
                url = part["image_url"]["url"]
                head, _, data = url.partition(";base64,")
                assert head in {"data:image/jpeg", "data:image/png", "data:image/webp"}
                assert base64.b64decode(data, validate=True)
    assert messages[-1]["role"] == "assistant"
    return example


def ask(omar: ScriptedCli, model: ScriptedModel, *args: str, answer: str) -> dict[str, Any]:
    model.enqueue(answer)
    result = omar("ask", "--new", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return as_json(result)


def test_finetune_export(omar: ScriptedCli, model: ScriptedModel, tmp_path: Path) -> None:
    approved = ask(omar, model, "¿Qué es F0002?", answer="Sobretensión en el bus [F0002].")
    edited = ask(omar, model, "¿Rampa 2203?", answer="Acorte la rampa [2203].")
    rejected = ask(omar, model, "¿Y F0001?", answer="Mal [F0001].")
    ask(omar, model, "¿Pendiente F0003?", answer="Sin revisar [F0003].")
    assert omar("review", "approve", approved["message_id"]).exit_code == 0
    assert omar("review", "edit", edited["message_id"], "--text", "Alargue 2203.").exit_code == 0
    assert omar("review", "reject", rejected["message_id"]).exit_code == 0
    target = tmp_path / "train.jsonl"
    result = omar("review", "export", "--format", "finetune", "-o", str(target))
    assert result.exit_code == 0, result.stderr and result.stdout == ""
    lines = target.read_text(encoding="utf-8").splitlines()
    examples = [check_finetune_line(line) for line in lines]
    assert len(examples) == 2
    first, second = (e["messages"] for e in examples)
    sent = model.requests[0].messages[-1].text
    assert first[1]["content"] == sent.strip()  # the grounding exactly as sent
    assert "F0002" in first[1]["content"] and first[2]["content"].startswith("Sobretensión")
    assert second[2]["content"] == "Alargue 2203."
    on_stdout = omar("review", "export")
    assert on_stdout.stdout.splitlines() == lines
    assert omar("review", "export", "--since", "2999-01-01").stdout == ""


def test_finetune_photos_as_image_parts(
    omar: ScriptedCli, model: ScriptedModel, tmp_path: Path
) -> None:
    from photos import camera_jpeg

    photo = tmp_path / "panel.jpg"
    photo.write_bytes(camera_jpeg(64, 48))
    model.enqueue("Veo F0002 en el panel [F0002].")
    shot = omar("image", str(photo), "-q", "¿qué muestra?", "--json")
    assert shot.exit_code == 0, shot.stderr
    item = as_json(shot)["message_id"]
    assert omar("review", "approve", item).exit_code == 0
    (line,) = omar("review", "export").stdout.splitlines()
    user = check_finetune_line(line)["messages"][1]["content"]
    assert [p["type"] for p in user] == ["text", "image_url"]


def test_markdown_and_json(omar: ScriptedCli, model: ScriptedModel) -> None:
    asked = ask(omar, model, "¿Qué es F0002?", answer="Sobretensión [F0002].")
    omar("review", "reject", asked["message_id"], "--note", "falta la causa", "--reviewer", "ana")
    report = omar("review", "export", "--format", "markdown")
    assert report.exit_code == 0, report.stderr
    assert asked["session_id"] in report.stdout and "falta la causa" in report.stdout
    assert "F0002" in report.stdout and "ana" in report.stdout
    full = json.loads(omar("review", "export", "--format", "json").stdout)
    (session,) = full["sessions"]
    assert session["session"]["id"] == asked["session_id"]
    assert session["messages"][1]["review"]["note"] == "falta la causa"
    bad = omar("review", "export", "--format", "csv")
    assert bad.exit_code == 2


@pytest.mark.parametrize("fmt", ["finetune", "markdown", "json"])
def test_a_damaged_message_file_stops_the_export_and_is_named(
    omar: ScriptedCli, model: ScriptedModel, fmt: str
) -> None:
    from omar_cli.settings import load_settings

    asked = ask(omar, model, "¿Qué es F0002?", answer="Sobretensión [F0002].")
    assert omar("review", "approve", asked["message_id"]).exit_code == 0
    chunk = load_settings().paths.store / "sessions" / asked["session_id"] / "messages-0000.json"
    chunk.write_text('{"messages": {"1": ', encoding="utf-8")
    result = omar("review", "export", "--format", fmt)
    assert result.exit_code == 5 and result.stdout == ""
    assert "messages-0000.json" in result.stderr
