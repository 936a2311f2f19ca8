"""The assistant and the CLI against the in-memory ScriptedModel: domain rules without HTTP.

Each test module that uses these declares the two small fixtures itself (see
tests/test_assistant.py): a knowledge cache shared by the whole test session, so the index is
built once (it is keyed by a fingerprint of the entries, so sharing is safe), and a fresh
``ScriptedModel`` per test.
"""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from omar_cli.cli.app import app
from omar_cli.cli.context import AppState
from omar_cli.llm.scripted import ScriptedModel
from omar_cli.services import Services
from omar_cli.settings import load_settings


def scripted_services(model: ScriptedModel) -> Services:
    """Services from the test's environment, with ``model`` as the chat endpoint."""
    return Services(load_settings(), chat_override=model)


class ScriptedCli:
    """Runs `omar` in-process; each run is a fresh process's worth of services (settings
    read again, so `--model` and the environment apply), all sharing one scripted model."""

    def __init__(self, model: ScriptedModel) -> None:
        self.model = model

    def __call__(self, *args: str, input: str | None = None) -> Result:
        state = AppState(services=scripted_services(self.model))
        return CliRunner().invoke(app, list(args), input=input, obj=state)


def as_json(result: Result) -> dict[str, Any]:
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc
