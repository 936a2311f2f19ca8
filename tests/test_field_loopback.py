"""Field notes over the wire: structured through the real openai client against the loopback
server (one endpoint, then a profile chain that falls back), approved, and then sent to the
model as a marked field note, after the manual's entry for the same code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import FAKE_KEY
from fake_openai import FakeOpenAIServer, unreachable_base_url
from typer.testing import CliRunner, Result

from omar_cli.cli.app import app

NOTE = "en la bomba P-3 el F0002 se resolvió alargando 2203 a 8 s"
REPLY = {
    "codes": ["F0002"],
    "parameters": [{"id": "2203", "value": "8 s"}],
    "symptom": "F0002 al frenar la bomba",
    "action": "alargar 2203 a 8 s",
    "machine": "bomba P-3",
}


def omar(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def as_json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc


@pytest.fixture
def endpoint(
    fake_openai: FakeOpenAIServer, knowledge_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> FakeOpenAIServer:
    monkeypatch.setenv("OMAR_CACHE_DIR", str(knowledge_cache))
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OMAR_TIMEOUT", "2")
    monkeypatch.setenv("OMAR_MAX_RETRIES", "0")
    return fake_openai


def test_note_structured_approved_and_grounded(endpoint: FakeOpenAIServer) -> None:
    endpoint.enqueue_answer(json.dumps(REPLY, ensure_ascii=False))
    doc = as_json(omar("note", NOTE, "--json"))
    sent = endpoint.last_request.json
    assert sent["temperature"] == 0 and sent["model"] == "gpt-4o-mini"
    assert "JSON" in sent["messages"][0]["content"] and NOTE in sent["messages"][1]["content"]
    structure = doc["structure"]
    assert structure["status"] == "done" and structure["machine"] == "bomba P-3"
    assert structure["parameters"] == [{"id": "2203", "value": "8 s"}]
    item = doc["note"]["id"]
    assert omar("review", "approve", item, "--reviewer", "ana").exit_code == 0

    endpoint.enqueue_answer("Alargue la deceleración [2203]; en la bomba P-3 bastó 8 s.")
    asked = as_json(omar("ask", "--new", "F0002 al frenar la bomba P-3", "--json"))
    grounding = endpoint.last_request.json["messages"][-1]["content"]
    field = grounding.index(f"[field-{item}] FIELD NOTE")
    assert grounding.index("[F0002]") < field
    assert f"item {item}, approved by ana on" in grounding
    assert "not from the manual" in grounding
    given = {s["id"] for s in asked["also_given"]} | {s["id"] for s in asked["sources"]}
    assert f"field-{item}" in given
    # the model left the rule out: the built-in safety note is still appended
    assert asked["safety_note"] and "5 minutos" in asked["answer"]


def test_profile_chain_falls_back_for_structuring(
    fake_openai: FakeOpenAIServer,
    knowledge_cache: Path,
    isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMAR_CACHE_DIR", str(knowledge_cache))
    monkeypatch.setenv("OMAR_MAX_RETRIES", "0")
    config = isolated_dirs / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(
        f"""profile_order = ["cloud", "local"]

[profiles.cloud]
base_url = "{unreachable_base_url()}"
model = "cloud-model"
timeout = 2

[profiles.local]
base_url = "{fake_openai.base_url}"
model = "gemma-local"
""",
        encoding="utf-8",
    )
    fake_openai.enqueue_answer(json.dumps(REPLY), model="gemma-local")
    result = omar("note", NOTE, "--json")
    doc = as_json(result)
    assert fake_openai.last_request.json["model"] == "gemma-local"
    assert doc["structure"]["profile"] == "local" and doc["structure"]["model"] == "gemma-local"
    assert "cloud" in result.stderr  # the fallback is said


def test_unreachable_endpoint_keeps_the_note_queued(
    endpoint: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", unreachable_base_url())
    result = omar("note", NOTE, "--json")
    assert result.exit_code == 14
    doc = json.loads(result.stdout)
    assert doc["queued"] is True and doc["note"]["text"] == NOTE
    assert doc["structure"]["codes"] == ["F0002"]
    monkeypatch.setenv("OPENAI_BASE_URL", endpoint.base_url)
    endpoint.enqueue_answer(json.dumps(REPLY))
    (item,) = as_json(omar("sync", "--json"))["items"]
    assert item["status"] == "structured" and item["question_id"] == doc["note"]["id"]
