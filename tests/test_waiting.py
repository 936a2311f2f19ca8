"""Bounded waiting: the whole request, retries included, waits at most the timeout.

The real openai client against a fake server that accepts the question and never answers.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import FAKE_KEY
from fake_openai import AnswerReply, FakeOpenAIServer
from typer.testing import CliRunner

from omar_cli.cli.app import app
from omar_cli.errors import ExitCode, ServerError, TimeoutError_
from omar_cli.llm.model import ChatMessage
from omar_cli.llm.openai_client import ApiConfig, OpenAIChat
from omar_cli.store import SessionStore

pytestmark = pytest.mark.usefixtures("english_messages")  # the messages it reads

MESSAGES = [ChatMessage.of("user", "What does fault F0001 mean?")]
#: time the test itself may add around the measured call (thread hand-offs, a slow CI box)
MARGIN = 0.6


def timed_ask(server: FakeOpenAIServer, *, timeout: float, max_retries: int) -> float:
    started = time.monotonic()
    with (
        OpenAIChat(ApiConfig("sk-x", server.base_url, timeout, max_retries)) as chat,
        pytest.raises(TimeoutError_) as caught,
    ):
        chat.stream_chat(MESSAGES, model="gpt-4o-mini")
    elapsed = time.monotonic() - started
    assert f"within {timeout:g} s" in caught.value.message  # the message stays true
    return elapsed


def test_a_server_that_never_answers_costs_one_timeout_not_one_per_retry(
    fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.enqueue_hang(30, times=3)
    elapsed = timed_ask(fake_openai, timeout=1.0, max_retries=2)
    assert 1.0 <= elapsed < 1.0 + MARGIN
    assert len(fake_openai.requests) == 1  # no time was left for a retry


def test_retries_share_the_deadline(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue_server_error(503)  # fails at once: worth a retry
    fake_openai.enqueue_hang(30, times=2)
    elapsed = timed_ask(fake_openai, timeout=1.0, max_retries=2)
    assert elapsed < 1.0 + MARGIN
    assert len(fake_openai.requests) == 2


def test_a_stream_that_stalls_before_the_first_token(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue_stall_before_text(30)
    fake_openai.enqueue_stall_before_text(30)
    elapsed = timed_ask(fake_openai, timeout=1.0, max_retries=2)
    assert elapsed < 1.0 + MARGIN


def test_empty_deltas_do_not_stretch_the_wait(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue_trickle(100, pace=0.1)  # 10 s of keep-alive pieces, never text
    elapsed = timed_ask(fake_openai, timeout=1.0, max_retries=0)
    assert elapsed < 1.0 + MARGIN


def test_a_slow_but_flowing_answer_is_not_cut_by_the_deadline(
    fake_openai: FakeOpenAIServer,
) -> None:
    # each gap is well inside the timeout; the whole answer takes longer than it
    fake_openai.enqueue(AnswerReply(["uno ", "dos ", "tres ", "cuatro."], pace=0.3))
    with OpenAIChat(ApiConfig("sk-x", fake_openai.base_url, 0.8, 0)) as chat:
        result = chat.stream_chat(MESSAGES, model="gpt-4o-mini")
    assert result.text == "uno dos tres cuatro."


def test_a_server_error_says_how_many_retries_were_really_made(
    fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.enqueue_server_error(503, retry_after_ms=5, times=3)
    with (
        OpenAIChat(ApiConfig("sk-x", fake_openai.base_url, 5.0, 2)) as chat,
        pytest.raises(ServerError, match="after 2 retries"),
    ):
        chat.stream_chat(MESSAGES, model="gpt-4o-mini")
    fake_openai.enqueue_server_error(503, retry_after_ms=60_000)  # longer than the timeout
    with (
        OpenAIChat(ApiConfig("sk-x", fake_openai.base_url, 1.0, 2)) as chat,
        pytest.raises(ServerError, match="after 0 retries"),
    ):
        chat.stream_chat(MESSAGES, model="gpt-4o-mini")


def test_ask_against_a_hanging_server_answers_offline_within_the_timeout(
    fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, isolated_dirs: Path
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OMAR_TIMEOUT", "1")
    monkeypatch.setenv("OMAR_MAX_RETRIES", "2")
    runner = CliRunner()
    # one answered question first: building the index and importing openai are no waiting
    fake_openai.enqueue_answer("Vea [F0002].")
    assert runner.invoke(app, ["ask", "F0002"]).exit_code == 0
    fake_openai.enqueue_hang(30, times=3)
    started = time.monotonic()
    result = runner.invoke(app, ["ask", "--json", "--new", "F0002 al frenar"])
    elapsed = time.monotonic() - started
    assert result.exit_code == ExitCode.TIMEOUT, result.stderr
    assert elapsed < 1.0 + MARGIN
    doc = json.loads(result.stdout)
    assert doc["mode"] == "offline" and "F0002" in doc["answer"] and doc["queued"] is True
    assert "within 1 s" in result.stderr
    pending = SessionStore(isolated_dirs / "data" / "store").pending()
    assert [m.text for m in pending] == ["F0002 al frenar"]
