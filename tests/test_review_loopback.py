"""`omar review` over sessions made by the real commands against the loopback OpenAI server:
an answer and a transcript reviewed, then exported for fine-tuning with what was sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from audio_fakes import concat, silence, tone, wav_bytes
from conftest import FAKE_KEY
from fake_openai import FakeOpenAIServer
from test_review_export import check_finetune_line
from typer.testing import CliRunner, Result

from omar_cli.cli.app import app


@pytest.fixture(autouse=True)
def endpoint(
    fake_openai: FakeOpenAIServer, knowledge_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMAR_CACHE_DIR", str(knowledge_cache))
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OMAR_TIMEOUT", "2")
    monkeypatch.setenv("OMAR_MAX_RETRIES", "0")


def omar(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input)


def as_json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc


def test_answer_and_transcript_reviewed_and_exported(
    fake_openai: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", "true")  # an editor that leaves the text as it was
    fake_openai.enqueue_answer("Sobretensión en el bus de CC: alargue la rampa [F0002] [2203].")
    asked = as_json(omar("ask", "¿Qué hago con F0002 al frenar?", "--json"))
    sent = fake_openai.last_request.json["messages"][-1]["content"]
    note = tmp_path / "nota.wav"
    note.write_bytes(wav_bytes(concat([silence(0.3), tone(1), silence(0.3)])))
    fake_openai.enqueue_transcription("El ventilador hace ruido en la bomba P-3.")
    heard = as_json(omar("transcribe", str(note), "--session", asked["session_id"], "--json"))

    (row,) = as_json(omar("review", "--code", "F0002", "--json"))["sessions"]
    assert row["id"] == asked["session_id"]
    assert row["pending"] == 2 and row["recordings"] == 1
    shown = as_json(omar("review", "show", asked["session_id"][:13], "--json"))
    transcript = next(m for m in shown["messages"] if m["id"] == heard["recording_id"])
    assert transcript["review"]["state"] == "pending"
    assert transcript["text"] == "El ventilador hace ruido en la bomba P-3."

    queue = omar("review", "queue", input="e\n")  # the editor changed nothing: refused
    assert queue.exit_code == 6 and "editor" in queue.stderr
    queue = omar("review", "queue", input="a\ns\n")
    assert queue.exit_code == 0, queue.stderr
    reviews = {
        m["id"]: m["review"]["state"]
        for m in as_json(omar("review", "show", asked["session_id"], "--json"))["messages"]
        if m["review"]
    }
    assert reviews == {asked["message_id"]: "approved", heard["recording_id"]: "pending"}
    assert omar("review", "approve", heard["recording_id"]).exit_code == 0

    session_id, seq = heard["recording_id"].rsplit(".", 1)
    fake_openai.enqueue_answer('{"codes": [], "parameters": [], "symptom": "ruido del '
                               'ventilador", "action": null, "machine": "bomba P-3"}')  # fmt: skip
    noted = as_json(omar("note", "--from", f"{session_id[:12]}.{seq}", "--json"))["note"]
    assert noted["meta"]["structure"]["machine"] == "bomba P-3"
    assert noted["text"] == "El ventilador hace ruido en la bomba P-3."
    assert noted["meta"]["from_recording"] == heard["recording_id"]

    lines = omar("review", "export").stdout.splitlines()
    (example,) = [check_finetune_line(line) for line in lines]  # transcripts are not Q/A pairs
    user = example["messages"][1]["content"]
    assert user == sent.strip()  # the grounding and question exactly as the server got them
    assert example["messages"][2]["content"].startswith("Sobretensión en el bus de CC")
