"""Each question is answered once, whatever happens: the torture run's findings, one by one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import FAKE_KEY
from fake_openai import FakeOpenAIServer
from typer.testing import CliRunner, Result

from omar_cli import atomic
from omar_cli.cli.app import app
from omar_cli.errors import ExitCode
from omar_cli.store import Lease, SessionStore, session_files


@pytest.fixture
def online(fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAIServer:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OMAR_TIMEOUT", "2")
    monkeypatch.setenv("OMAR_MAX_RETRIES", "0")
    return fake_openai


def omar(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def home_store(home: Path) -> SessionStore:
    return SessionStore(home / "data" / "store")


def queue(store: SessionStore, *texts: str, **fields: Any) -> list[str]:
    """Pending questions nobody holds, as `ask --queue` leaves them once it has exited."""
    session = store.create_session()
    fields.setdefault("lease", None)
    return [store.add_message(session.id, "user", t, status="pending", **fields).id for t in texts]


def chat_requests(server: FakeOpenAIServer) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/chat/completions"))


# -- a refusal a config fix cures keeps the queue --------------------------------------------


@pytest.mark.parametrize("status", [404, 400, 422])
def test_sync_refused_by_the_endpoint_keeps_the_queue_and_fails(
    online: FakeOpenAIServer, isolated_dirs: Path, status: int
) -> None:
    store = home_store(isolated_dirs)
    ids = queue(store, "¿F0001?", "¿F0002?", "¿2202?")
    online.enqueue_error(status, "The model `gtp-4o` does not exist", code="model_not_found")
    result = omar("sync", "--json")
    assert result.exit_code == ExitCode.BAD_REQUEST, result.stdout
    report = json.loads(result.stdout)
    assert (report["answered"], report["failed"], report["remaining"]) == (0, 0, 3)
    assert [m.id for m in store.pending()] == ids
    assert chat_requests(online) == 1
    # once the config is fixed, the same queue goes through
    online.enqueue_answer("Vea [F0001].", times=3)
    assert omar("sync").exit_code == 0
    assert store.pending() == [] and store.stats().answered == 3


def test_a_refusal_after_an_answer_fails_that_question_only(
    online: FakeOpenAIServer, isolated_dirs: Path
) -> None:
    store = home_store(isolated_dirs)
    first, second, third = queue(store, "¿F0001?", "x" * 50, "¿F0002?")
    online.enqueue_answer("Vea [F0001].")
    # too long, and still too long when sent again smaller: that question fails
    online.enqueue_context_too_long()
    online.enqueue_context_too_long()
    online.enqueue_answer("Vea [F0002].")
    result = omar("sync", "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["failed"] == 1
    assert store.get_message(second).status == "failed"
    assert {store.get_message(i).status for i in (first, third)} == {"answered"}


def test_retry_failed_queues_failed_questions_again(
    online: FakeOpenAIServer, isolated_dirs: Path
) -> None:
    store = home_store(isolated_dirs)
    [asked] = queue(store, "¿F0001?")
    store.update_message(asked, status="failed", error="model not found")
    assert omar("sync").exit_code == 0 and chat_requests(online) == 0
    online.enqueue_answer("Vea [F0001].")
    assert omar("sync", "--retry-failed").exit_code == 0
    assert store.get_message(asked).status == "answered" and chat_requests(online) == 1


# -- a question being answered belongs to one process ----------------------------------------

HOLDER = """
import sys, time
from pathlib import Path
from omar_cli.store import SessionStore
store = SessionStore(Path(sys.argv[1]))
session = store.create_session()
store.add_message(session.id, "user", "¿qué es F0001?", status="pending")
print("asked", flush=True)
time.sleep(60)
"""


def test_sync_leaves_alone_a_question_an_ask_is_answering(
    online: FakeOpenAIServer, isolated_dirs: Path
) -> None:
    root = isolated_dirs / "data" / "store"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "asked"
        synced = omar("sync", "--json")
        assert synced.exit_code == 0, synced.stderr
        assert json.loads(synced.stdout)["remaining"] == 1
        assert chat_requests(online) == 0  # the streaming ask owns it
    finally:
        holder.kill()
        holder.wait()
    online.enqueue_answer("Vea [F0001].")
    assert omar("sync").exit_code == 0  # its process is gone: the lease is free
    assert chat_requests(online) == 1 and home_store(isolated_dirs).pending() == []


def test_a_lease_from_another_machine_holds_until_it_expires(isolated_dirs: Path) -> None:
    store = home_store(isolated_dirs)
    soon = datetime.now(UTC) + timedelta(minutes=5)
    [held] = queue(store, "q", lease=Lease("other-host:123", soon))
    [stale] = queue(store, "q", lease=Lease("other-host:123", soon - timedelta(hours=1)))
    assert store.claim(held) is None
    claimed = store.claim(stale)
    assert claimed is not None and claimed.lease and claimed.lease.owner == store.owner


def test_an_answer_stored_before_a_crash_is_not_asked_again(
    online: FakeOpenAIServer, isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = home_store(isolated_dirs)
    monkeypatch.setattr(session_files, "CHUNK_SIZE", 1)  # question and answer apart
    [asked] = queue(store, "¿F0001?")
    real_replace = atomic._replace

    def killed_closing_the_question(src: str, dst: Path) -> None:
        if dst.name == "messages-0000.json":
            raise KeyboardInterrupt  # the answer's chunk is in place, the question's is not
        real_replace(src, dst)

    monkeypatch.setattr(atomic, "_replace", killed_closing_the_question)
    with pytest.raises(KeyboardInterrupt):
        store.add_message(
            asked.rsplit(".")[0], "assistant", "F0001 es…", status="answered", reply_to=asked
        )
    monkeypatch.setattr(atomic, "_replace", real_replace)
    session_id = asked.rsplit(".")[0]
    # The next write to the session recounts it from its messages: the question reads
    # pending again, and has its answer already.
    follow_up = store.add_message(session_id, "user", "¿y F0002?", status="pending", lease=None)
    assert [m.id for m in store.pending()] == [asked, follow_up.id]
    online.enqueue_answer("Vea [F0002].")
    synced = omar("sync")
    assert synced.exit_code == 0, synced.stderr
    assert chat_requests(online) == 1  # the follow-up only
    assert store.get_message(asked).status == "answered"
    replies = [m.reply_to for m in store.messages(session_id) if m.role == "assistant"]
    assert sorted(replies) == sorted([asked, follow_up.id])


def test_a_question_asked_offline_is_never_sent_online(
    online: FakeOpenAIServer, isolated_dirs: Path
) -> None:
    store = home_store(isolated_dirs)
    queue(store, "¿F0001?", mode="offline")  # an offline ask killed before answering
    assert omar("sync").exit_code == 0
    assert chat_requests(online) == 0
