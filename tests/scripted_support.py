"""The assistant and the CLI against the in-memory ScriptedModel: domain rules without HTTP.

Each test module that uses these declares a ``model`` fixture (a fresh ``ScriptedModel`` per
test, see tests/test_assistant.py); the knowledge cache is conftest's ``knowledge_cache``,
shared by the whole test session so the index is built once.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any, cast

from typer.testing import CliRunner, Result

from omar_cli.cli.app import app
from omar_cli.cli.context import AppState
from omar_cli.environment import Environment
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
        # the runner swaps the standard streams during the run: use whichever is current
        env = Environment.create(
            stdin=cast("IO[str]", _Current("stdin")),
            stdout=cast("IO[str]", _Current("stdout")),
            stderr=cast("IO[str]", _Current("stderr")),
            stdin_isatty=False,
            stdout_isatty=False,
            stderr_isatty=False,
        )
        state = AppState.for_env(env, scripted_services(self.model))
        return CliRunner().invoke(app, list(args), input=input, obj=state)


class _Current:
    """sys.stdin, stdout or stderr as they are at each call, not as they were when built."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(getattr(sys, self._name), attr)


def as_json(result: Result) -> dict[str, Any]:
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc
