"""Endpoint profiles: the config tables, `--profile`, `omar config profile`, `omar status`,
and the fallback from one endpoint to the next, with two real loopback servers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAIServer, unreachable_base_url
from typer.testing import CliRunner, Result

from omar_cli.cli.app import app
from omar_cli.errors import ConfigError
from omar_cli.i18n import _
from omar_cli.settings import load_settings
from omar_cli.store import SessionStore

Run = Callable[..., Result]
CLOUD_KEY = "sk-cloud-test-key-0042"


@pytest.fixture(scope="session")
def knowledge_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("knowledge-cache")


@pytest.fixture
def second() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def home(isolated_dirs: Path) -> Path:
    return isolated_dirs


@pytest.fixture
def omar(knowledge_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("OMAR_CACHE_DIR", str(knowledge_cache))
    monkeypatch.setenv("OMAR_MAX_RETRIES", "0")

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, list(args))

    return run


def write_config(home: Path, text: str) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(text, encoding="utf-8")


def two_profiles(first_url: str, second_url: str, *, order: str = '"cloud", "local"') -> str:
    return f"""
profile_order = [{order}]

[profiles.cloud]
base_url = "{first_url}"
api_key_env = "OMAR_TEST_CLOUD_KEY"
model = "cloud-model"
timeout = 2

[profiles.local]
base_url = "{second_url}"
model = "gemma-local"
vision_model = "gemma-local-vision"
context_window = 2048
"""


def as_json(result: Result) -> dict[str, Any]:
    assert result.stdout, result.output
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc


# ------------------------------------------------------------------ settings


def test_profiles_are_read_with_defaults_and_keys_from_their_variable(home: Path) -> None:
    write_config(home, 'model = "top-model"\n' + two_profiles("http://a:1/v1", "http://b:2/v1"))
    env = {"OMAR_CONFIG_DIR": str(home / "config"), "OMAR_TEST_CLOUD_KEY": CLOUD_KEY}
    settings = load_settings(env)
    cloud, local = settings.profiles
    assert (cloud.name, cloud.model, cloud.timeout, cloud.api_key) == (
        "cloud",
        "cloud-model",
        2.0,
        CLOUD_KEY,
    )
    assert CLOUD_KEY not in repr(cloud)
    assert (local.model, local.vision_model, local.context_window) == (
        "gemma-local",
        "gemma-local-vision",
        2048,
    )
    assert local.transcription_model == "whisper-1"  # the top-level default
    assert local.api_key is None and local.usable  # a local server needs no key
    assert settings.profile_order == ("cloud", "local")


@pytest.mark.parametrize(
    ("url", "env_timeout", "expected"),
    [
        ("http://127.0.0.1:8080/v1", None, 120.0),  # llama.cpp on the laptop
        ("http://localhost:11434/v1", None, 120.0),  # Ollama
        ("http://192.168.1.20:8080/v1", None, 120.0),  # a server on the plant network
        ("https://llm.example.com/v1", None, 30.0),  # somewhere on the internet
        ("http://127.0.0.1:8080/v1", "5", 5.0),  # the user's own choice wins
    ],
)
def test_a_local_server_waits_longer_for_a_slow_cpu_unless_told_otherwise(
    home: Path, url: str, env_timeout: str | None, expected: float
) -> None:
    write_config(home, f'[profiles.local]\nbase_url = "{url}"\n')
    env = {"OMAR_CONFIG_DIR": str(home / "config")}
    if env_timeout:
        env["OMAR_TIMEOUT"] = env_timeout
    (local,) = load_settings(env).profiles
    assert local.timeout == expected
    implicit = {"OMAR_CONFIG_DIR": str(home / "none"), "OPENAI_BASE_URL": url}
    if env_timeout:
        implicit["OMAR_TIMEOUT"] = env_timeout
    from omar_cli.profiles import all_profiles

    assert all_profiles(load_settings(implicit))[0].timeout == expected


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('[profiles.x]\napi_key = "sk-123456789"\n', "never stored"),
        ('[profiles.x]\nbase_url = "ftp://x"\n', "base_url"),
        ("[profiles.x]\ncontext_window = 100\n", "context_window"),
        ('[profiles.x]\ncolour = "red"\n', "unknown profile key"),
        ('profile_order = ["nowhere"]\n[profiles.x]\nmodel = "m"\n', "nowhere"),
        ('profiles = "local"\n', "tables"),
    ],
)
def test_a_bad_profile_is_a_config_error(home: Path, table: str, words: str) -> None:
    from omar_cli import i18n

    i18n.set_language("en")
    write_config(home, table)
    with pytest.raises(ConfigError) as caught:
        load_settings({"OMAR_CONFIG_DIR": str(home / "config")})
    assert words in caught.value.message


def test_config_profile_add_list_and_remove(home: Path, omar: Run) -> None:
    added = omar(
        "config",
        "profile",
        "add",
        "local",
        "--base-url",
        "http://127.0.0.1:8080/v1",
        "--model",
        "gemma3",
        "--context-window",
        "2048",
        "--json",
    )
    assert added.exit_code == 0, added.output
    assert as_json(added)["values"]["context_window"] == 2048
    omar("config", "profile", "add", "cloud", "--api-key-env", "MY_KEY", "--json")
    listed = as_json(omar("config", "profile", "list", "--json"))
    assert [p["name"] for p in listed["profiles"]] == ["local", "cloud"]
    assert listed["order"] == ["local", "cloud"]
    gone = omar("config", "profile", "remove", "local", "--json")
    assert gone.exit_code == 0, gone.output
    listed = as_json(omar("config", "profile", "list", "--json"))
    assert listed["order"] == ["cloud"]
    missing = omar("config", "profile", "remove", "local")
    assert missing.exit_code != 0
    refused = omar("config", "profile", "add", "bad", "--base-url", "not a url")
    assert refused.exit_code != 0
    assert "bad" not in as_json(omar("config", "profile", "list", "--json"))["order"]


def test_without_profiles_the_plain_setup_is_one_implicit_profile(
    omar: Run, fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", CLOUD_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    fake_openai.enqueue_answer("Revise el motor [F0001].")
    doc = as_json(omar("ask", "--offline", "¿F0001?", "--json"))  # offline: no request
    assert doc["profile"] is None and fake_openai.requests == []
    doc = as_json(omar("ask", "--new", "¿Qué significa F0001?", "--json"))
    assert (doc["mode"], doc["profile"], doc["model"]) == ("online", "default", "gpt-4o-mini")


# ------------------------------------------------------------------ fallback


def test_an_unreachable_first_profile_falls_back_to_the_second(
    home: Path, omar: Run, fake_openai: FakeOpenAIServer
) -> None:
    write_config(home, two_profiles(unreachable_base_url(), fake_openai.base_url))
    fake_openai.enqueue_answer("Sobrecorriente: revise la rampa [F0001].", model="gemma-local")
    result = omar("ask", "--new", "¿Qué significa el fallo F0001?", "--json")
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    assert (doc["mode"], doc["profile"], doc["model"]) == ("online", "local", "gemma-local")
    assert fake_openai.last_request.json["model"] == "gemma-local"
    assert "cloud" in result.stderr  # the fallback is said on stderr
    stored = SessionStore(home / "data" / "store").get_message(doc["message_id"])
    assert stored.model == "gemma-local"
    assert stored.provenance is not None
    assert stored.provenance.request["profile"] == "local"
    assert stored.provenance.endpoint_host == f"127.0.0.1:{fake_openai.port}"


@pytest.mark.parametrize("status", [500, 401, 400])
def test_a_failing_first_profile_falls_back_to_the_second(
    home: Path,
    omar: Run,
    fake_openai: FakeOpenAIServer,
    second: FakeOpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
) -> None:
    monkeypatch.setenv("OMAR_TEST_CLOUD_KEY", CLOUD_KEY)
    write_config(home, two_profiles(fake_openai.base_url, second.base_url))
    fake_openai.enqueue_error(status, "the cloud refuses")
    second.enqueue_answer("Respuesta local [F0001].")
    doc = as_json(omar("ask", "--new", "¿Qué significa el fallo F0001?", "--json"))
    assert (doc["profile"], doc["model"]) == ("local", "gemma-local")
    assert fake_openai.last_request.bearer_token == CLOUD_KEY
    assert second.last_request.bearer_token != CLOUD_KEY  # a key never goes to another host
    stored = SessionStore(home / "data" / "store").get_message(doc["message_id"])
    assert stored.provenance is not None and stored.provenance.request["profile"] == "local"
    assert stored.provenance.endpoint_host == f"127.0.0.1:{second.port}"


def test_when_every_profile_fails_the_offline_answer_is_the_last_resort(
    home: Path, omar: Run, fake_openai: FakeOpenAIServer
) -> None:
    write_config(home, two_profiles(unreachable_base_url(), fake_openai.base_url))
    fake_openai.enqueue_error(503, "overloaded")
    result = omar("ask", "--new", "¿Qué significa el fallo F0001?", "--json")
    doc = as_json(result)
    assert doc["mode"] == "offline" and doc["answer"]
    assert "cloud" in doc["error"]["message"] and "local" in doc["error"]["message"]
    assert doc["queued"]


def test_profile_option_uses_only_that_profile(
    home: Path, omar: Run, fake_openai: FakeOpenAIServer, second: FakeOpenAIServer
) -> None:
    write_config(home, two_profiles(fake_openai.base_url, second.base_url))
    second.enqueue_answer("Local [F0001].")
    doc = as_json(omar("ask", "--new", "--profile", "local", "¿F0001?", "--json"))
    assert doc["profile"] == "local"
    assert fake_openai.requests == []
    unknown = omar("ask", "--profile", "nowhere", "¿F0001?")
    assert unknown.exit_code != 0
    assert "nowhere" in unknown.stderr


def test_status_shows_each_profiles_health(
    home: Path, omar: Run, fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMAR_TEST_CLOUD_KEY", CLOUD_KEY)
    write_config(home, two_profiles(unreachable_base_url(), fake_openai.base_url))
    fake_openai.enqueue_models("gemma-local", times=2)
    doc = as_json(omar("status", "--json"))
    assert doc["endpoint_ok"] is True
    cloud, local = doc["profiles"]
    assert (cloud["name"], cloud["ok"]) == ("cloud", False) and cloud["error"]
    assert (local["name"], local["ok"], local["context_window"]) == ("local", True, 2048)
    assert CLOUD_KEY not in json.dumps(doc)
    text = omar("status")
    assert "perfil local" in text.stdout and "perfil cloud" in text.stdout


# ------------------------------------------------------------------ fitting the request

LLAMA_CPP_TOO_LONG = "the request exceeds the available context size, try increasing it"


def sent_chars(server: FakeOpenAIServer, index: int = -1) -> int:
    return sum(len(m["content"]) for m in server.requests[index].json["messages"])


def one_local_profile(url: str, window: int = 2048) -> str:
    return (
        f'[profiles.local]\nbase_url = "{url}"\nmodel = "gemma-local"\ncontext_window = {window}\n'
    )


def test_a_small_window_gets_a_compact_request_that_fits(
    home: Path, omar: Run, fake_openai: FakeOpenAIServer
) -> None:
    from omar_cli.prompt import COMPACT_SYSTEM_PROMPT, SAFETY_RULE, SYSTEM_PROMPT

    write_config(home, one_local_profile(fake_openai.base_url))
    fake_openai.enqueue_answer("Sobrecorriente [F0001].", model="gemma-local")
    doc = as_json(omar("ask", "--new", "¿Qué significa el fallo F0001?", "--json"))
    assert doc["profile"] == "local"
    body = fake_openai.last_request.json
    assert "max_completion_tokens" not in body and 128 <= body["max_tokens"] <= 512
    system = body["messages"][0]["content"]
    assert system == COMPACT_SYSTEM_PROMPT and SAFETY_RULE in system
    assert len(COMPACT_SYSTEM_PROMPT) < len(SYSTEM_PROMPT) * 0.6
    # about 3 characters a token: prompt and answer within the 2048-token window
    assert sent_chars(fake_openai) / 3 + body["max_tokens"] <= 2048
    assert "[F0001]" in body["messages"][-1]["content"]  # the best excerpt is still there


def test_a_large_window_keeps_the_full_request(
    home: Path, omar: Run, fake_openai: FakeOpenAIServer
) -> None:
    from omar_cli.prompt import SYSTEM_PROMPT

    write_config(home, one_local_profile(fake_openai.base_url, window=32768))
    fake_openai.enqueue_answer("Sobrecorriente [F0001].")
    omar("ask", "--new", "¿Qué significa el fallo F0001?", "--json")
    body = fake_openai.last_request.json
    assert body["messages"][0]["content"] == SYSTEM_PROMPT and body["max_tokens"] == 1024


def test_context_exceeded_is_retried_once_smaller(
    home: Path, omar: Run, fake_openai: FakeOpenAIServer
) -> None:
    from omar_cli.prompt import request_sha256
    from omar_cli.provenance import rebuild_request

    # the window declared is larger than the server's real one (a common mistake)
    write_config(home, one_local_profile(fake_openai.base_url, window=8192))
    fake_openai.enqueue_error(400, LLAMA_CPP_TOO_LONG, type="invalid_request_error")
    fake_openai.enqueue_answer("Sobrecorriente [F0001].")
    doc = as_json(omar("ask", "--new", "¿Qué significa el fallo F0001?", "--json"))
    assert (doc["mode"], doc["profile"], doc["error"]) == ("online", "local", None)
    assert len(fake_openai.requests) == 2
    assert sent_chars(fake_openai, 1) < sent_chars(fake_openai, 0) / 2
    store = SessionStore(home / "data" / "store")
    answer = store.get_message(doc["message_id"])
    assert answer.provenance is not None
    # what is stored is what was sent the second time, not the first
    assert request_sha256(rebuild_request(store, answer)) == answer.provenance.request["sha256"]


def test_context_still_exceeded_says_so(
    home: Path, omar: Run, fake_openai: FakeOpenAIServer
) -> None:
    from omar_cli.llm.openai_client import _MODEL_HINT

    write_config(home, one_local_profile(fake_openai.base_url))
    fake_openai.enqueue_error(400, LLAMA_CPP_TOO_LONG, times=2)
    result = omar("ask", "--new", "¿Qué significa el fallo F0001?", "--json")
    doc = as_json(result)
    assert doc["mode"] == "offline" and len(fake_openai.requests) == 2
    assert "demasiado larga para el contexto" in doc["error"]["message"]  # Spanish, the default
    assert "context_window" in doc["error"]["hint"]
    assert doc["error"]["hint"] not in (_MODEL_HINT, _(_MODEL_HINT))  # not "check the model name"


def test_fit_request_trims_history_first_and_never_below_the_safety_rule() -> None:
    from omar_cli.prompt import COMPACT_SYSTEM_PROMPT, SAFETY_RULE, Turn, fit_request

    history = [Turn("user", "x" * 800), Turn("assistant", "y" * 800)] * 3
    wide = fit_request(None, context_chars=6000, question="q", history=history)
    assert (wide.compact, wide.grounding_chars, wide.history_turns) == (False, 6000, 6)
    small = fit_request(2048, context_chars=6000, question="q", history=history)
    assert small.compact and small.history_turns < 6 and small.grounding_chars < 6000
    shrunk = fit_request(2048, context_chars=6000, question="q", history=history, shrink=True)
    assert shrunk.history_turns == 0 and shrunk.grounding_chars < small.grounding_chars
    assert SAFETY_RULE in COMPACT_SYSTEM_PROMPT


def test_ctrl_c_after_a_fallback_keeps_the_partial_answer_with_the_profile_that_gave_it(
    home: Path, fake_openai: FakeOpenAIServer, knowledge_cache: Path
) -> None:
    """A real process, a real SIGINT: the partial text is stored, named after the second
    profile (the one streaming), not the first (the one asked first)."""
    import os
    import signal
    import subprocess
    import sys

    from fake_openai import AnswerReply
    from process_support import Reader

    write_config(home, two_profiles(unreachable_base_url(), fake_openai.base_url))
    pieces = ["Primero aísle ", "la alimentación. ", *[f"Paso {n}. " for n in range(100)]]
    fake_openai.enqueue(AnswerReply(pieces, pace=0.1, model="gemma-local"))
    env = {**os.environ, "OMAR_CACHE_DIR": str(knowledge_cache), "OMAR_LANGUAGE": "en"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "omar_cli", "ask", "--new", "¿Qué significa el fallo F0001?"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    Reader(proc).wait_for("la alimentación")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    store = SessionStore(home / "data" / "store")
    question, answer = store.messages(store.list_sessions()[0].id)
    assert (question.status, answer.status) == ("pending", "incomplete")
    assert answer.text.startswith("Primero aísle la alimentación.")
    assert answer.model == "gemma-local"
    assert answer.provenance is not None
    assert answer.provenance.request["profile"] == "local"
    assert answer.provenance.endpoint_host == f"127.0.0.1:{fake_openai.port}"


def test_status_names_the_first_profile_and_a_local_profile_serves_its_own_photos(
    home: Path, omar: Run
) -> None:
    write_config(
        home, '[profiles.local]\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "gemma3:4b"\n'
    )
    (local,) = load_settings().profiles
    assert local.vision_model == "gemma3:4b"  # not the cloud's gpt-4o-mini
    doc = as_json(omar("status", "--no-check", "--json"))
    assert doc["endpoint"] == "http://127.0.0.1:9/v1"
    assert doc["models"]["chat"] == doc["models"]["vision"] == "gemma3:4b"
    assert doc["profiles"][0]["timeout"] == 120.0
    assert "espera 120 s" in omar("status", "--no-check").stdout
