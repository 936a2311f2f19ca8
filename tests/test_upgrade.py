"""A store written by the schema-1 code (tests/data/store_v1) opens after the upgrade whole."""

from __future__ import annotations

import filecmp
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import FAKE_KEY
from fake_openai import FakeOpenAIServer
from typer.testing import CliRunner

from omar_cli.cli.app import app
from omar_cli.store import MIGRATIONS, SessionStore, migrations
from omar_cli.store.migrations import BACKUP_DIR, read_schema

DATA = Path(__file__).parent / "data"
V1 = DATA / "store_v1"
EXPECTED: dict[str, Any] = json.loads((DATA / "store_v1.expected.json").read_text("utf-8"))
#: what schema 1 kept in meta and schema 2 keeps in provenance
MOVED = ("prompt_version", "finish_reason", "safety_appended")


@pytest.fixture
def v1_store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    shutil.copytree(V1, root)
    return root


def _same_tree(a: Path, b: Path) -> bool:
    compared = filecmp.dircmp(a, b)
    if compared.left_only or compared.right_only or compared.diff_files:
        return False
    return all(_same_tree(a / d, b / d) for d in compared.common_dirs)


def test_every_message_is_kept_with_its_fields(v1_store: Path) -> None:
    store = SessionStore(v1_store)
    assert read_schema(v1_store)[0] == len(MIGRATIONS) == 2
    assert not (v1_store / BACKUP_DIR).exists()
    assert sorted(s.id for s in store.list_sessions()) == [s["id"] for s in EXPECTED["sessions"]]
    for expected in EXPECTED["sessions"]:
        messages = store.messages(expected["id"])
        assert len(messages) == len(expected["messages"])
        for got, old in zip(messages, expected["messages"], strict=True):
            for name in ("id", "role", "text", "status", "model", "latency_ms", "mode"):
                assert getattr(got, name) == old[name], (got.id, name)
            for name in ("reply_to", "error"):
                assert getattr(got, name) == old[name], (got.id, name)
            assert list(got.media) == old["media"] and list(got.sources) == old["sources"]
            assert str(got.created_at) == old["created_at"]
            assert (got.usage.__dict__ if got.usage else None) == old["usage"]
            assert dict(got.meta) == {k: v for k, v in old["meta"].items() if k not in MOVED}
            if old["meta"].get("prompt_version"):
                assert got.provenance and got.provenance.prompt_version == "2026-11-a"
            if got.role == "assistant":
                assert got.review is not None and got.review.state == "pending"


def test_the_appended_safety_note_is_told_apart(v1_store: Path) -> None:
    store = SessionStore(v1_store)
    first = EXPECTED["sessions"][0]
    answer = store.get_message(first["messages"][3]["id"])
    assert answer.provenance is not None
    assert answer.provenance.model_text == "Revise la rampa de deceleración."
    assert answer.provenance.safety_note == "Espere 5 minutos."
    assert answer.text == first["messages"][3]["text"]  # what the user saw is unchanged


def test_pending_questions_stay_pending_and_sessions_continue(v1_store: Path) -> None:
    store = SessionStore(v1_store)
    assert sorted(m.id for m in store.pending()) == sorted(EXPECTED["pending"])
    assert store.stats().pending == len(EXPECTED["pending"])
    photo = next(m for m in store.pending() if m.media)
    assert store.media_path(photo.media[0]).stat().st_size > 0
    long_one = EXPECTED["sessions"][3]
    added = store.add_message(long_one["id"], "user", "¿sigue?", status="pending")
    assert added.seq == len(long_one["messages"]) + 1
    assert store.get_session(long_one["id"]).message_count == len(long_one["messages"]) + 1
    summaries = store.summaries(code="F0002")
    assert [s.id for s in summaries] == [EXPECTED["sessions"][0]["id"]]


def test_a_crash_mid_upgrade_keeps_the_originals_and_resumes(
    v1_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = migrations._upgrade_message
    seen = 0

    def crash_on_tenth(doc: dict[str, Any]) -> dict[str, Any]:
        nonlocal seen
        seen += 1
        if seen == 10:
            raise KeyboardInterrupt  # stands in for a kill part-way through
        return real(doc)

    monkeypatch.setattr(migrations, "_upgrade_message", crash_on_tenth)
    with pytest.raises(KeyboardInterrupt):
        SessionStore(v1_store)
    monkeypatch.undo()
    backup = v1_store / BACKUP_DIR
    assert read_schema(v1_store)[0] == 1
    assert _same_tree(backup / "sessions", V1 / "sessions")
    assert filecmp.cmp(backup / "meta.json", V1 / "meta.json", shallow=False)
    store = SessionStore(v1_store)  # resumes
    assert read_schema(v1_store)[0] == 2 and not backup.exists()
    assert sorted(m.id for m in store.pending()) == sorted(EXPECTED["pending"])
    total = sum(len(s["messages"]) for s in EXPECTED["sessions"])
    assert store.stats().messages == total


def test_an_upgraded_store_syncs(
    v1_store: Path,
    isolated_dirs: Path,
    fake_openai: FakeOpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shutil.copytree(v1_store, isolated_dirs / "data" / "store")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    for _ in EXPECTED["pending"]:
        fake_openai.enqueue_answer("Respuesta en línea [F0001].")
    result = CliRunner().invoke(app, ["sync", "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["answered"] == len(EXPECTED["pending"]) and report["remaining"] == 0
    store = SessionStore(isolated_dirs / "data" / "store")
    assert store.pending() == []
    assert store.stats().messages == sum(len(s["messages"]) for s in EXPECTED["sessions"]) + len(
        EXPECTED["pending"]
    )


def test_sessions_json_shows_what_produced_each_answer(isolated_dirs: Path) -> None:
    shutil.copytree(V1, isolated_dirs / "data" / "store")
    first = EXPECTED["sessions"][0]
    result = CliRunner().invoke(app, ["sessions", first["id"], "--json"])
    assert result.exit_code == 0, result.stderr
    question, answer = json.loads(result.stdout)["messages"][:2]
    assert question["review"] is None and question["lease"] is None
    assert answer["review"] == {
        "state": "pending",
        "corrected_text": None,
        "note": None,
        "reviewer": None,
        "at": None,
        "withdrawn_by": None,
        "withdrawn_at": None,
    }
    provenance = answer["provenance"]
    assert provenance["prompt_version"] == "2026-11-a" and provenance["finish_reason"] == "stop"
    assert set(provenance) == {
        "model_text",
        "safety_note",
        "grounding",
        "prompt_version",
        "endpoint_host",
        "request",
        "finish_reason",
    }
    assert answer["usage"] == {"prompt_tokens": 812, "completion_tokens": 64, "total_tokens": 876}


def test_a_copy_left_after_the_last_record_is_removed_at_the_next_write(v1_store: Path) -> None:
    SessionStore(v1_store)
    shutil.copytree(V1 / "sessions", v1_store / BACKUP_DIR / "sessions")  # crash before rmtree
    store = SessionStore(v1_store)
    assert (v1_store / BACKUP_DIR).exists()  # opening alone changes nothing
    store.create_session()
    assert not (v1_store / BACKUP_DIR).exists()
