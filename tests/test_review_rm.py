"""Retention: `omar review rm`, by id or age, asks first, and removes media no one uses."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scripted_support import ScriptedCli, as_json

from omar_cli.llm.scripted import ScriptedModel


@pytest.fixture
def omar(model: ScriptedModel) -> ScriptedCli:
    return ScriptedCli(model)


def media_files() -> list[Path]:
    from omar_cli.settings import load_settings

    return sorted(p for p in load_settings().paths.store.rglob("media/*/*") if p.is_file())


def listed(omar: ScriptedCli) -> list[str]:
    return [s["id"] for s in as_json(omar("review", "--json"))["sessions"]]


def test_rm_by_id_asks_and_prunes_media(
    omar: ScriptedCli, model: ScriptedModel, tmp_path: Path
) -> None:
    from photos import camera_jpeg

    photo = tmp_path / "panel.jpg"
    photo.write_bytes(camera_jpeg(64, 48))
    model.enqueue("Veo F0002 [F0002].")
    shot = as_json(omar("image", str(photo), "-q", "¿qué es?", "--new", "--json"))
    model.enqueue("Sobretensión [F0002].")
    kept = as_json(omar("ask", "--new", "¿F0002?", "--json"))
    before = media_files()
    assert len(before) == 2  # the photo as sent and the camera original
    for path in before:  # stored an hour ago: past the grace time for media in flight
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    from omar_cli.settings import load_settings
    from omar_cli.store import SessionStore

    in_flight = SessionStore(load_settings().paths.store).add_media(b"\xff\xd8new", "jpg")
    refused = omar("review", "rm", shot["session_id"])
    assert refused.exit_code == 2 and len(listed(omar)) == 2
    done = omar("review", "rm", shot["session_id"][:-2], "--yes", "--json")
    assert done.exit_code == 0, done.stderr
    removed = as_json(done)["removed"]
    assert removed["sessions"] == [shot["session_id"]] and len(removed["media"]) == 2
    assert listed(omar) == [kept["session_id"]]
    assert media_files() == [in_flight.path]  # unreferenced, but just written: kept
    gone = omar("review", "show", shot["session_id"])
    assert gone.exit_code == 3


def test_rm_older_than_keeps_recent_and_shared_media(
    omar: ScriptedCli, model: ScriptedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from omar_cli.settings import load_settings
    from omar_cli.store import SessionStore

    store = SessionStore(load_settings().paths.store)
    photo = store.add_media(b"\xff\xd8\xff\xe0shared", "jpg")
    old_day = datetime.now(UTC) - timedelta(days=200)
    old = SessionStore(store.root, clock=lambda: old_day).create_session()
    SessionStore(store.root, clock=lambda: old_day).add_message(
        old.id, "user", "antigua", status="answered", media=(photo.sha256,)
    )
    model.enqueue("Sobretensión [F0002].")
    recent = as_json(omar("ask", "--new", "¿F0002?", "--json"))
    store.add_message(recent["session_id"], "user", "la misma foto", status="answered",
                      media=(photo.sha256,))  # fmt: skip
    result = omar("review", "rm", "--older-than", "90d", "--yes")
    assert result.exit_code == 0, result.stderr
    assert listed(omar) == [recent["session_id"]]
    assert store.media_path(photo.sha256).exists()  # still used by the recent session
    assert omar("review", "rm").exit_code == 2


def test_a_deletion_killed_half_way_is_finished_by_the_next_rm(
    omar: ScriptedCli, model: ScriptedModel
) -> None:
    from omar_cli.settings import load_settings

    model.enqueue("Uno [F0002].")
    first = as_json(omar("ask", "--new", "¿F0002?", "--json"))["session_id"]
    model.enqueue("Dos [F0001].")
    second = as_json(omar("ask", "--new", "¿F0001?", "--json"))["session_id"]
    sessions = load_settings().paths.store / "sessions"
    # what a kill between the rename and the removal leaves behind
    (sessions / first).rename(sessions / f".deleting-{first}")
    assert listed(omar) == [second]
    assert omar("review", "rm", second, "--yes").exit_code == 0
    assert [p.name for p in sessions.iterdir() if p.name.startswith(".deleting-")] == []
