"""`omar ask` against llama.cpp's real server (xllamacpp) with a 270M model and a 2048-token
context: the request must fit, stream back and be stored with its profile and model.

The server answers whatever a 270M model writes; only the mechanics are asserted here, not
the quality of the answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tools_support import tool
from typer.testing import CliRunner

from omar_cli.cli.app import app
from omar_cli.store import SessionStore

pytestmark = pytest.mark.llamacpp
CONTEXT = 2048


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with tool("llama_server").llama_server(
        tmp_path_factory.mktemp("model"), context=CONTEXT
    ) as url:
        yield url


def local_profile(home: Path, url: str) -> None:
    config = home / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(
        f'[profiles.local]\nbase_url = "{url}"\nmodel = "gemma3-270m"\n'
        f"context_window = {CONTEXT}\ntimeout = 300\n",
        encoding="utf-8",
    )


def test_ask_is_answered_by_llama_cpp_within_its_context(
    llama_server: str, isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_profile(isolated_dirs, llama_server)
    result = CliRunner().invoke(app, ["ask", "--new", "¿Qué significa el fallo F0001?", "--json"])
    doc: dict[str, Any] = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert (doc["mode"], doc["profile"], doc["error"]) == ("online", "local", None)
    assert doc["answer"].strip() and doc["model"]
    usage = doc["usage"]
    # the request fitted: llama.cpp counted its tokens and they left room for the answer
    assert usage is not None and usage["prompt_tokens"] + usage["completion_tokens"] <= CONTEXT
    print(f"prompt tokens sent to a {CONTEXT}-token llama.cpp: {usage['prompt_tokens']}")
    stored = SessionStore(isolated_dirs / "data" / "store").get_message(doc["message_id"])
    assert stored.provenance is not None
    assert stored.provenance.request["profile"] == "local"
    assert stored.provenance.request["system"] == "compact"


def test_a_field_note_is_structured_as_json_by_a_small_local_model(
    llama_server: str, isolated_dirs: Path
) -> None:
    """JSON mode: llama.cpp holds even a 270M model to one JSON object."""
    local_profile(isolated_dirs, llama_server)
    note = "en la bomba P-3 el F0002 se resolvió alargando 2203 a 8 s"
    result = CliRunner().invoke(app, ["note", "--json", note])
    assert result.exit_code == 0, result.output
    structure = json.loads(result.stdout)["structure"]
    assert (structure["status"], structure["profile"]) == ("done", "local"), structure
    assert "F0002" in structure["codes"]
