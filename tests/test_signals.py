"""SIGTERM and SIGHUP during an answer keep the partial answer, as Ctrl-C does.

One run is a real `omar ask` process streaming from the loopback server and killed with
SIGTERM mid-answer; SIGHUP is checked in-process, the signal raised by the model mid-stream.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from conftest import FAKE_KEY
from fake_openai import AnswerReply, FakeOpenAIServer
from process_support import Reader
from scripted_support import ScriptedCli, as_json

from omar_cli.llm.model import ChatMessage, ChatResult
from omar_cli.llm.scripted import ScriptedModel
from omar_cli.settings import load_settings
from omar_cli.store import SessionStore

pytestmark = [
    pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals"),
    pytest.mark.usefixtures("english_messages"),  # the messages it reads
]

PIECES = ["Primero aísle ", "la alimentación. ", *[f"Paso {n}. " for n in range(100)]]


def _stored(home_store: Path) -> tuple[str, str, str | None, str, str | None]:
    store = SessionStore(home_store)
    question, answer = store.messages(store.list_sessions()[0].id)
    return (
        question.status,
        answer.status,
        answer.error,
        answer.text,
        answer.provenance and (answer.provenance.model_text),
    )


def test_sigterm_mid_stream_keeps_the_partial_answer_and_exits_143(
    fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.enqueue(AnswerReply(PIECES, pace=0.1))  # 10 s: ample time to stop it
    env = {**os.environ, "OPENAI_API_KEY": FAKE_KEY, "OPENAI_BASE_URL": fake_openai.base_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "omar_cli", "ask", "F0004 cortocircuito"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stderr is not None
    reader = Reader(proc)
    reader.wait_for("la alimentación")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    shown = reader.text().strip()
    stderr = proc.stderr.read().decode()
    assert "stopped by SIGTERM" in stderr and FAKE_KEY not in stderr
    q_status, a_status, error, text, model_text = _stored(load_settings().paths.store)
    assert (q_status, a_status, error) == ("pending", "incomplete", "stopped by SIGTERM")
    assert text.startswith("Primero aísle la alimentación.") and text.startswith(shown)
    assert model_text == text and len(text) < len("".join(PIECES))


class _HangUpMidStream(ScriptedModel):
    """Streams two pieces, then the terminal goes away (SIGHUP to this process)."""

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str,
        on_delta: Callable[[str], None] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> ChatResult:
        assert on_delta is not None
        on_delta("Primero aísle ")
        on_delta("la alimentación.")
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(2)  # the handler raises before this ends
        raise AssertionError("SIGHUP was not handled")


def test_sighup_mid_stream_keeps_the_partial_answer_and_exits_129(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMAR_CACHE_DIR", str(tmp_path / "cache"))
    seen: list[int] = []

    def test_runner_survives(signum: int, frame: object) -> None:
        seen.append(signum)  # reached only if the ask did not take the signal

    before = signal.signal(signal.SIGHUP, test_runner_survives)
    try:
        result = ScriptedCli(_HangUpMidStream())("ask", "--json", "F0004 cortocircuito")
        assert signal.getsignal(signal.SIGHUP) == test_runner_survives  # only for the ask
    finally:
        signal.signal(signal.SIGHUP, before)
    assert (result.exit_code, seen) == (129, [])
    doc = as_json(result)
    assert doc["ok"] is False and doc["error"]["code"] == 129
    assert doc["error"]["message"] == "stopped by SIGHUP"
    q_status, a_status, error, text, _ = _stored(load_settings().paths.store)
    assert (q_status, a_status, error) == ("pending", "incomplete", "stopped by SIGHUP")
    assert text == "Primero aísle la alimentación."


class _TerminatedMidStream(_HangUpMidStream):
    def stream_chat(self, messages: Sequence[ChatMessage], **kw: object) -> ChatResult:
        on_delta = kw["on_delta"]
        assert callable(on_delta)
        on_delta("Revise la red ")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(2)
        raise AssertionError("SIGTERM was not handled")


def test_sigterm_during_sync_keeps_the_partial_answer_and_exits_143(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMAR_CACHE_DIR", str(tmp_path / "cache"))
    omar = ScriptedCli(_TerminatedMidStream())
    assert omar("ask", "--offline", "--queue", "F0006 al arrancar").exit_code == 0
    before = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        result = omar("sync")
    finally:
        signal.signal(signal.SIGTERM, before)
    assert result.exit_code == 143 and "stopped by SIGTERM" in result.stderr
    store = SessionStore(load_settings().paths.store)
    question, _offline, partial = store.messages(store.list_sessions()[0].id)
    assert (question.status, partial.status, partial.text) == (
        "pending",
        "incomplete",
        "Revise la red ",
    )
