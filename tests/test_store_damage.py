"""Damaged, lost or stray files: derived ones are rebuilt, damage is named, nothing is hidden."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import FAKE_KEY
from typer.testing import CliRunner, Result

from omar_cli.cli.app import app
from omar_cli.store import SessionStore, session_files


def omar(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def store(isolated_dirs: Path) -> SessionStore:
    return SessionStore(isolated_dirs / "data" / "store")


@pytest.mark.parametrize("damage", [b"{torn", b"", b'{"state": {"1": {"recent_session": 7}}}'])
def test_a_damaged_pointer_file_is_rebuilt(store: SessionStore, damage: bytes) -> None:
    session = store.create_session()
    asked = store.add_message(session.id, "user", "q", status="pending")
    (store.root / "state.json").write_bytes(damage)
    reopened = SessionStore(store.root)
    assert reopened.recent_session(timedelta(days=1)) == reopened.get_session(session.id)
    # Storing the answer must not fail on the pointer, and so must close the question.
    reopened.add_message(session.id, "assistant", "a", status="answered", reply_to=asked.id)
    assert reopened.get_message(asked.id).status == "answered"
    assert reopened.pending() == []
    pointer = json.loads((store.root / "state.json").read_text())
    assert pointer["state"]["1"]["recent_session"] == session.id


def test_a_first_write_cut_before_its_record_does_not_brick_the_store(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    (root / "meta.json").write_text('{"schema":{}}')  # what a kill mid-first-write left
    store = SessionStore(root)
    session = store.create_session()
    assert store.get_session(session.id).message_count == 0
    assert json.loads((root / "meta.json").read_text())["schema"]["1"]["schema_version"] == 2


def test_one_damaged_chunk_hides_nothing_else_and_status_names_it(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_files, "CHUNK_SIZE", 2)
    old, recent = store.create_session(), store.create_session()
    for i in range(4):
        store.add_message(old.id, "user", f"vieja {i}", status="answered")
    store.add_message(recent.id, "user", "nueva", status="answered")
    chunk = store.root / "sessions" / old.id / "messages-0000.json"
    chunk.write_text("{torn")
    listed = omar("sessions", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert {s["id"] for s in json.loads(listed.stdout)["sessions"]} == {old.id, recent.id}
    status = omar("status", "--json", "--no-check")
    assert status.exit_code == 0, status.stderr
    assert json.loads(status.stdout)["store"]["damaged"] == [str(chunk)]
    shown = omar("sessions", old.id)
    assert shown.exit_code == 0, shown.stderr
    assert "vieja 2" in shown.stdout and "vieja 3" in shown.stdout
    assert str(chunk) in shown.stderr


def test_a_lost_session_file_is_rebuilt_with_its_pending_question(store: SessionStore) -> None:
    session = store.create_session("bomba 3")
    store.add_message(session.id, "user", "primera", status="answered")
    waiting = store.add_message(session.id, "user", "¿y ahora?", status="pending", lease=None)
    (store.root / "sessions" / session.id / "session.json").unlink()
    reopened = SessionStore(store.root)
    assert [m.id for m in reopened.pending()] == [waiting.id]
    assert [s.id for s in reopened.list_sessions()] == [session.id]
    stats = reopened.stats()
    assert (stats.messages, stats.pending, stats.rebuilt) == (2, 1, (session.id,))
    assert reopened.get_session(session.id).message_count == 2


def test_stray_temp_files_of_a_killed_writer_are_removed(store: SessionStore) -> None:
    session = store.create_session()
    folder = store.root / "sessions" / session.id
    strays = [folder / ".messages-0000.json.k1l2.tmp", store.root / ".state.json.x9.tmp"]
    for stray in strays:
        stray.write_text("half")
    SessionStore(store.root).add_message(session.id, "user", "q", status="answered")
    assert [p for p in strays if p.exists()] == []


def test_an_echoed_key_is_stored_masked(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "store", redact=[FAKE_KEY])
    session = store.create_session()
    store.add_message(session.id, "assistant", f"su clave es {FAKE_KEY}", status="answered")
    stored = b"".join(p.read_bytes() for p in (tmp_path / "store").rglob("*.json"))
    assert FAKE_KEY.encode() not in stored
    assert store.messages(session.id)[0].text.startswith("su clave es sk-")


def test_control_bytes_in_stored_text_are_never_printed_raw(store: SessionStore) -> None:
    session = store.create_session()
    store.add_message(session.id, "user", "hola\x00\x1b]0;pwned\x07\x1b[2J", status="answered")
    for args in (("sessions",), ("sessions", session.id)):
        result = omar(*args)
        assert result.exit_code == 0, result.stderr
        assert "\x00" not in result.stdout and "\x1b" not in result.stdout
        assert "hola" in result.stdout and "\\x1b" in result.stdout
    shown = json.loads(omar("sessions", session.id, "--json").stdout)
    assert shown["messages"][0]["text"].startswith("hola\x00")  # JSON keeps it, escaped
