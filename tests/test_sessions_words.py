"""`omar sessions` in the user's words and clock: local times, proper plurals."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from terminal import run_on_terminal
from typer.testing import CliRunner, Result

from omar_cli.cli.app import app

ZONE = "Asia/Kolkata"  # +05:30 all year: never the UTC wall clock, whatever the date


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture
def kolkata(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", ZONE)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_times_are_local_and_counts_worded(isolated_dirs: Path, kolkata: None) -> None:
    first = json.loads(run("ask", "--new", "fallo 2", "--json").stdout)
    assert run("ask", "--new", "alarma 2009").exit_code == 0
    assert run("ask", "--session", first["session_id"], "fallo 3").exit_code == 0
    listed = json.loads(run("sessions", "--json").stdout)["sessions"]
    stamp = next(s["updated_at"] for s in listed if s["id"] == first["session_id"])
    moment = datetime.fromisoformat(stamp)
    assert moment.utcoffset() is not None  # JSON keeps ISO 8601 with its offset
    local = moment.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M")
    utc = moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M")
    lines = {line.split()[0]: line for line in run("sessions").stdout.splitlines()}
    mine = lines[first["session_id"]]
    assert local in mine and utc not in mine
    assert "4 mensajes" in mine and "msgs" not in mine
    assert any("2 mensajes" in line for line in lines.values())
    english = run("sessions", env={"OMAR_LANGUAGE": "en"}).stdout
    assert "4 messages" in english and "2 messages" in english
    detail = run("sessions", first["session_id"]).stdout
    created = json.loads(run("sessions", first["session_id"], "--json").stdout)["messages"][0]
    shown = datetime.fromisoformat(created["created_at"]).astimezone(ZoneInfo(ZONE))
    assert f"--- {created['id']}  pregunta  (" in detail
    assert shown.strftime("%Y-%m-%d %H:%M:%S") in detail


def test_one_message_is_singular_on_a_terminal(isolated_dirs: Path) -> None:
    from omar_cli.store import SessionStore

    store = SessionStore(isolated_dirs / "data" / "store")
    session = store.create_session()
    store.add_message(session.id, "user", "¿qué es F0002?", status="pending")
    screen = run_on_terminal("sessions", env={"TZ": ZONE})
    assert screen.returncode == 0, screen.stderr
    assert "1 mensaje, 1 pendiente" in screen.screen
    english = run_on_terminal("sessions", env={"TZ": ZONE, "OMAR_LANGUAGE": "en"})
    assert "1 message, 1 pending" in english.screen
    assert all(len(line) <= 80 for line in screen.screen.splitlines())
