"""Many `omar ask` processes at once on one store lose nothing and leave it valid."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import FAKE_KEY
from fake_openai import FakeOpenAIServer

from omar_cli.store import SessionStore

WORKERS = 8


def test_parallel_asks_lose_nothing(fake_openai: FakeOpenAIServer, isolated_dirs: Path) -> None:
    store = SessionStore(isolated_dirs / "data" / "store")
    shared = store.create_session()
    fake_openai.enqueue_answer("Vea [F0001].", times=WORKERS)
    env = {**os.environ, "OPENAI_API_KEY": FAKE_KEY, "OPENAI_BASE_URL": fake_openai.base_url}
    procs = []
    for i in range(WORKERS):
        # half online into one shared session, half offline into their own sessions
        args = ["--session", shared.id] if i % 2 == 0 else ["--offline", "--new"]
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "omar_cli", "ask", *args, f"pregunta {i} F0001"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for proc in procs:
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    questions = set()
    for session in store.list_sessions():
        messages = store.messages(session.id)
        assert [m.seq for m in messages] == sorted({m.seq for m in messages})
        questions |= {m.text for m in messages if m.role == "user"}
        answered = [m for m in messages if m.role == "assistant"]
        assert len(answered) == len(messages) // 2
    assert questions == {f"pregunta {i} F0001" for i in range(WORKERS)}
    stats = store.stats()
    assert (stats.messages, stats.pending) == (2 * WORKERS, 0)
    assert stats.sessions == 1 + WORKERS // 2
    assert len(store.messages(shared.id)) == WORKERS


def test_two_syncs_at_once_send_each_question_once(
    fake_openai: FakeOpenAIServer, isolated_dirs: Path
) -> None:
    store = SessionStore(isolated_dirs / "data" / "store")
    session = store.create_session()
    for i in range(4):
        # lease=None: queued as by an ask that has exited, so any sync may send them
        store.add_message(session.id, "user", f"pendiente {i} F0001", status="pending", lease=None)
    fake_openai.enqueue_answer("Vea [F0001].", times=8)
    env = {**os.environ, "OPENAI_API_KEY": FAKE_KEY, "OPENAI_BASE_URL": fake_openai.base_url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "omar_cli", "sync"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    chat_requests = [r for r in fake_openai.requests if r.path.endswith("/chat/completions")]
    assert len(chat_requests) == 4
    assert store.pending() == []
