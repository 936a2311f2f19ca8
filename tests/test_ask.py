"""`omar ask` and `omar sync` through the real CLI.

A few run end to end, the real openai client against the fake server (tests/fake_openai.py);
the rest drive the CLI with the scripted model, where only the command is under test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FAKE_KEY
from fake_openai import FakeOpenAIServer, unreachable_base_url
from scripted_support import ScriptedCli, as_json
from typer.testing import CliRunner, Result

from omar_cli.cli.app import app
from omar_cli.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    ExitCode,
    NetworkError,
    RateLimitError,
    ServerError,
    TimeoutError_,
)
from omar_cli.llm.scripted import ScriptedModel
from omar_cli.store import SessionStore

Run = Callable[..., Result]


@pytest.fixture
def omar(
    fake_openai: FakeOpenAIServer, knowledge_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> Run:
    """Run the CLI in-process against the fake server, with a key, quick timeouts, 1 retry."""
    monkeypatch.setenv("OMAR_CACHE_DIR", str(knowledge_cache))
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OMAR_TIMEOUT", "1")
    monkeypatch.setenv("OMAR_MAX_RETRIES", "1")

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(app, list(args), input=input)

    return run


@pytest.fixture
def scripted(model: ScriptedModel) -> ScriptedCli:
    return ScriptedCli(model)


def store(home: Path) -> SessionStore:
    return SessionStore(home / "data" / "store")


def test_online_answer_is_streamed_grounded_and_stored(
    omar: Run, fake_openai: FakeOpenAIServer, isolated_dirs: Path
) -> None:
    fake_openai.enqueue_answer(
        "Sobretensión en el bus DC [F0002]: alargue 2203 [2203].", usage=(90, 12)
    )
    result = omar("ask", "--json", "El variador muestra F0002 al frenar")
    assert result.exit_code == 0, result.stderr
    doc = as_json(result)
    assert doc["ok"] is True and doc["command"] == "ask"
    assert doc["mode"] == "online" and doc["status"] == "answered"
    assert doc["answer"].startswith("Sobretensión")
    assert doc["usage"] == {"prompt_tokens": 90, "completion_tokens": 12, "total_tokens": 102}
    assert doc["model"] and isinstance(doc["latency_ms"], int)
    cited = {s["id"] for s in doc["sources"] if s["cited"]}
    assert "F0002" in cited
    for key in ("session_id", "message_id", "question_id", "sources", "mode", "model", "usage"):
        assert key in doc
    # the request carried the system prompt and the grounding, with entry ids
    request = fake_openai.last_request
    assert request.bearer_token == FAKE_KEY
    assert request.json["stream"] is True and request.json["model"] == "gpt-4o-mini"
    system, *_, user = request.messages
    assert "ACS150" in system["content"] and "5 minutes" in system["content"]
    assert "[F0002]" in user["content"] and "QUESTION: El variador muestra F0002" in user["content"]
    assert len(user["content"]) < 6000 + 2000  # within the stated prompt budget
    # both sides of the exchange are in the store
    messages = store(isolated_dirs).messages(doc["session_id"])
    assert [(m.role, m.status) for m in messages] == [
        ("user", "answered"),
        ("assistant", "answered"),
    ]
    assert messages[1].usage is not None and messages[1].usage.total_tokens == 102
    assert messages[1].provenance is not None and messages[1].provenance.prompt_version


def test_plain_output_when_piped(scripted: ScriptedCli, model: ScriptedModel) -> None:
    model.enqueue(["Alargue la rampa ", "en 2202 [2202]."])
    result = scripted("ask", "¿Cómo alargo la rampa de aceleración?")
    assert result.exit_code == 0
    assert result.stdout.startswith("Alargue la rampa en 2202 [2202].\n")
    assert "Fuentes:\n  [2202]" in result.stdout
    assert "\x1b[" not in result.stdout


def test_question_from_stdin(scripted: ScriptedCli, model: ScriptedModel) -> None:
    model.enqueue("Vea [F0007].")
    result = scripted("ask", "-", input="Perdí la señal 4-20 mA\n")
    assert result.exit_code == 0
    assert model.last_request.last_text.endswith("QUESTION: Perdí la señal 4-20 mA")


def test_empty_question_is_an_input_error(omar: Run) -> None:
    result = omar("ask", "   ")
    assert result.exit_code == ExitCode.INPUT
    assert result.stderr.startswith("omar: error: la pregunta está vacía")


def test_session_continues_then_new_then_chosen(
    scripted: ScriptedCli, model: ScriptedModel
) -> None:
    for answer in ("Uno.", "Dos.", "Tres.", "Cuatro."):
        model.enqueue(answer)
    first = as_json(scripted("ask", "--json", "F0001 al arrancar"))
    second = as_json(scripted("ask", "--json", "¿y si persiste?"))
    assert second["session_id"] == first["session_id"]
    # the earlier turn travels as history
    contents = [m.text for m in model.last_request.messages]
    assert "F0001 al arrancar" in contents
    assert any(c.startswith("Uno.") for c in contents)
    third = as_json(scripted("ask", "--json", "--new", "Otra cosa"))
    assert third["session_id"] != first["session_id"] and third["new_session"] is True
    fourth = as_json(scripted("ask", "--json", "--session", first["session_id"], "vuelvo"))
    assert fourth["session_id"] == first["session_id"]


def test_unknown_session_is_not_found(omar: Run) -> None:
    result = omar("ask", "--session", "20200101-000000-abcd", "hola")
    assert result.exit_code == ExitCode.NOT_FOUND


def test_without_key_answers_offline(monkeypatch: pytest.MonkeyPatch, isolated_dirs: Path) -> None:
    result = CliRunner().invoke(app, ["ask", "--json", "Falla a tierra en el motor"])
    assert result.exit_code == 0, result.stderr
    doc = as_json(result)
    assert doc["mode"] == "offline" and doc["queued"] is False
    assert "F0016" in {s["id"] for s in doc["sources"]}
    assert "no hay clave de API" in result.stderr  # Spanish by default
    assert "5 min" in doc["answer"]  # the safety note travels with the answer


@pytest.mark.parametrize(
    ("script", "code"),
    [
        (lambda s: s.enqueue_invalid_key(), ExitCode.AUTH),
        (lambda s: s.enqueue_server_error(503, times=2), ExitCode.SERVER),
    ],
    ids=["auth", "server"],
)
def test_api_failures_fall_back_offline_and_keep_the_question(
    omar: Run,
    fake_openai: FakeOpenAIServer,
    isolated_dirs: Path,
    script: Callable[[FakeOpenAIServer], object],
    code: ExitCode,
) -> None:
    script(fake_openai)
    result = omar("ask", "--json", "Se dispara por sobrecorriente al arrancar")
    assert result.exit_code == code, result.stderr
    doc = as_json(result)
    assert doc["ok"] is False and doc["error"]["code"] == code
    assert doc["mode"] == "offline" and doc["queued"] is True and doc["answer"]
    lines = [line for line in result.stderr.splitlines() if line.startswith("omar: error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert FAKE_KEY not in result.stdout + result.stderr
    pending = store(isolated_dirs).pending()
    assert [m.text for m in pending] == ["Se dispara por sobrecorriente al arrancar"]


@pytest.mark.parametrize(
    "error",
    [
        AuthError("API key rejected"),
        RateLimitError("rate limit"),
        ServerError("HTTP 503"),
        TimeoutError_("no answer within 1 s"),
        NetworkError("cannot reach the endpoint"),
        BadRequestError("model 'x' not found"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_each_failure_prints_the_offline_answer_one_error_line_and_its_exit_code(
    scripted: ScriptedCli, model: ScriptedModel, error: ApiError
) -> None:
    model.enqueue_error(error)
    result = scripted("ask", "--json", "Se dispara por sobrecorriente al arrancar")
    assert result.exit_code == error.code, result.stderr
    doc = as_json(result)
    assert doc["ok"] is False and doc["error"]["code"] == error.code
    assert doc["mode"] == "offline" and doc["answer"]
    # only a request refused as such waits for nothing: a fixed key or network may cure the rest
    assert doc["queued"] is not isinstance(error, BadRequestError)
    lines = [line for line in result.stderr.splitlines() if line.startswith("omar: error:")]
    assert lines == [f"omar: error: {error.message}"] and "Traceback" not in result.stderr


def test_no_network_then_sync_sends_pending(
    omar: Run, fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, isolated_dirs: Path
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", unreachable_base_url())
    down = omar("ask", "Cortocircuito en el cable del motor")
    assert down.exit_code == ExitCode.NETWORK
    assert "F0004" in down.stdout  # the offline fallback still answers
    assert "omar sync" in down.stderr
    assert len(store(isolated_dirs).pending()) == 1
    # the network is back
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    fake_openai.enqueue_answer("Mida el aislamiento [F0004].")
    synced = omar("sync", "--json")
    assert synced.exit_code == 0, synced.stderr
    report = as_json(synced)
    assert (report["answered"], report["remaining"]) == (1, 0)
    assert store(isolated_dirs).pending() == []
    assert "Cortocircuito" in fake_openai.last_request.messages[-1]["content"]


def test_sync_without_key_is_a_clear_error(isolated_dirs: Path) -> None:
    result = CliRunner().invoke(app, ["sync"])
    assert result.exit_code == ExitCode.NO_API_KEY
    assert result.stderr.startswith("omar: error: no hay clave de API")


def test_cut_stream_keeps_partial_answer(
    omar: Run, fake_openai: FakeOpenAIServer, isolated_dirs: Path
) -> None:
    text = "Primero, aísle y espere 5 minutos. Después mida el aislamiento del cable."
    fake_openai.enqueue_cut_stream(text, after=2, pieces=4)
    result = omar("ask", "--json", "Cortocircuito en el cable del motor")
    assert result.exit_code == ExitCode.INCOMPLETE, result.stderr
    doc = as_json(result)
    assert doc["status"] == "incomplete" and doc["answer"]
    assert text.startswith(doc["answer"]) and doc["answer"] != text
    answer = store(isolated_dirs).get_message(doc["message_id"])
    assert answer.status == "incomplete" and answer.text == doc["answer"]
    assert [m.id for m in store(isolated_dirs).pending()] == [doc["question_id"]]


def test_status_reports_endpoint_and_counts(omar: Run, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue_answer("Vea [2202].")
    omar("ask", "rampa")
    fake_openai.enqueue_models("gpt-4o-mini")
    result = omar("status", "--json")
    assert result.exit_code == 0, result.stderr
    doc = as_json(result)
    assert doc["endpoint_ok"] is True and doc["endpoint_latency_ms"] >= 0
    assert doc["api_key"] != FAKE_KEY and doc["api_key"].endswith(FAKE_KEY[-4:])
    assert doc["store"]["sessions"] == 1 and doc["store"]["messages"] == 2
    assert doc["store"]["pending"] == 0
    assert doc["models"]["transcription"] == "whisper-1"
    assert FAKE_KEY not in result.stdout


def test_the_key_never_lands_in_any_file(
    omar: Run, fake_openai: FakeOpenAIServer, isolated_dirs: Path
) -> None:
    fake_openai.enqueue_answer("Vea [F0001].")
    omar("ask", "F0001")
    fake_openai.enqueue_invalid_key()
    omar("ask", "F0002")
    omar("config", "set", "model", "gpt-4o")
    assert omar("config", "set", "api_key", FAKE_KEY).exit_code == ExitCode.CONFIG
    files = [p for p in isolated_dirs.rglob("*") if p.is_file()]
    assert files, "expected the store and config to exist"
    assert "AUTH" in (isolated_dirs / "log" / "errors.log").read_text()
    for path in files:
        assert FAKE_KEY.encode() not in path.read_bytes(), path


def test_model_flag_beats_environment(
    scripted: ScriptedCli, model: ScriptedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMAR_MODEL", "from-env")
    model.enqueue("Vea [2202].")
    model.enqueue("Vea [2202].")
    scripted("ask", "rampa")
    assert model.last_request.model == "from-env"
    scripted("ask", "--model", "from-flag", "rampa")
    assert model.last_request.model == "from-flag"


def test_sessions_lists_and_shows_what_sync_answered(
    scripted: ScriptedCli, model: ScriptedModel
) -> None:
    omar = scripted
    model.enqueue("Vea [F0002].")
    asked = as_json(omar("ask", "--json", "--offline", "--queue", "F0002 al frenar"))
    synced = omar("sync")
    assert "F0002 al frenar" in synced.stdout and "Vea [F0002]." in synced.stdout
    listed = as_json(omar("sessions", "--json"))["sessions"]
    assert [s["id"] for s in listed] == [asked["session_id"]]
    assert listed[0]["first_question"] == "F0002 al frenar" and listed[0]["pending"] == 0
    shown = as_json(omar("sessions", asked["session_id"], "--json"))
    roles = [(m["role"], m["mode"]) for m in shown["messages"]]
    assert roles == [("user", None), ("assistant", "offline"), ("assistant", "online")]
    assert shown["messages"][2]["reply_to"] == asked["question_id"]
    plain = omar("sessions", asked["session_id"])
    assert "Vea [F0002]." in plain.stdout
    assert omar("sessions", "20200101-000000-abcd").exit_code == ExitCode.NOT_FOUND


def test_no_key_with_the_official_endpoint_answers_offline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
    result = CliRunner().invoke(app, ["ask", "--json", "What is F0002?"])
    assert result.exit_code == 0, result.stderr
    assert as_json(result)["mode"] == "offline"


def test_a_damaged_session_is_skipped_with_a_warning(isolated_dirs: Path) -> None:
    runner = CliRunner()
    uno = as_json(runner.invoke(app, ["ask", "--offline", "--new", "--json", "uno"]))
    runner.invoke(app, ["ask", "--offline", "--new", "dos"])
    # two sessions started in the same second sort by their random suffix: pick by id
    damaged = isolated_dirs / "data" / "store" / "sessions" / uno["session_id"]
    (damaged / "session.json").write_text("{")
    result = runner.invoke(app, ["sessions", "--json"])
    assert result.exit_code == 0
    assert [s["first_question"] for s in as_json(result)["sessions"]] == ["dos"]
    assert "aviso:" in result.stderr and "session.json" in result.stderr
    assert (damaged / "session.json").read_text() == "{"  # never overwritten


def test_the_error_log_is_private_and_never_follows_a_symlink(
    isolated_dirs: Path, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("")
    log = isolated_dirs / "log" / "errors.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.symlink_to(target)
    result = CliRunner().invoke(app, ["sessions", "nope-nope"])
    assert result.exit_code == 3 and "nope-nope" in result.stderr  # the error still shows
    assert target.read_text() == ""  # nothing written through the planted link
    log.unlink()
    CliRunner().invoke(app, ["sessions", "nope-nope"])
    assert log.read_text() and (log.stat().st_mode & 0o777) == 0o600
