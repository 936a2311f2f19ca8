"""Cross-session queries come from the month index, which heals itself; history reads the end."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from omar_cli.store import Review, SessionStore, session_files
from omar_cli.store.session_files import SessionFiles

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> SessionStore:
    return SessionStore(tmp_path / "store", clock=clock)


def _three_sessions(store: SessionStore, clock: Clock) -> list[str]:
    ids = []
    for month, (question, review) in enumerate(
        [("¿qué es F0001?", "approved"), ("alarma a2001 al arrancar", "pending"), ("hola", None)]
    ):
        clock.now = T0 + timedelta(days=31 * month)
        session = store.create_session()
        asked = store.add_message(session.id, "user", question, status="pending", lease=None)
        if review is not None:
            store.add_message(
                session.id,
                "assistant",
                "Vea el manual.",
                status="answered",
                reply_to=asked.id,
                sources=("2202",),
                review=Review(review),  # type: ignore[arg-type]
            )
        ids.append(session.id)
    return ids


def test_queries_by_review_code_date_and_pending(store: SessionStore, clock: Clock) -> None:
    march, april, may = _three_sessions(store, clock)
    assert [s.id for s in store.summaries(review="approved")] == [march]
    assert [s.id for s in store.summaries(review="pending")] == [april]
    assert [s.id for s in store.summaries(code="f0001")] == [march]
    assert [s.id for s in store.summaries(code="A2001")] == [april]
    assert [s.id for s in store.summaries(code="2202")] == [april, march]  # cited, newest first
    april_only = store.summaries(since=T0 + timedelta(days=20), until=T0 + timedelta(days=40))
    assert [s.id for s in april_only] == [april]
    assert [s.id for s in store.summaries(pending=True)] == [may]
    [summary] = store.summaries(review="approved")
    assert summary.first_question == "¿qué es F0001?" and summary.reviews == {"approved": 1}


def test_a_lost_or_damaged_index_is_rebuilt(store: SessionStore, clock: Clock) -> None:
    ids = _three_sessions(store, clock)
    before = store.stats()
    shutil.rmtree(store.root / "index")
    assert sorted(s.id for s in store.summaries()) == sorted(ids)
    month = next((store.root / "index").glob("*.json"))
    month.write_text("{torn")
    after = SessionStore(store.root).stats()
    assert replace(after, size_bytes=0) == replace(before, size_bytes=0)
    assert json.loads(month.read_text())  # rewritten whole


def test_a_session_file_changed_behind_the_index_is_read_afresh(
    store: SessionStore, clock: Clock
) -> None:
    _march, _april, may = _three_sessions(store, clock)
    state_path = store.root / "sessions" / may / "session.json"
    saved = state_path.read_bytes()
    store.add_message(may, "assistant", "respuesta", status="answered", reply_to=f"{may}.1")
    assert store.summaries(pending=True) == []
    state_path.write_bytes(saved)  # restored from a backup: the question waits again
    assert [s.id for s in store.summaries(pending=True)] == [may]


def test_a_month_file_is_all_an_append_rewrites_besides_its_session(
    store: SessionStore, clock: Clock
) -> None:
    ids = _three_sessions(store, clock)
    months = {p.name: p.stat().st_mtime_ns for p in (store.root / "index").glob("*.json")}
    assert len(months) == 3
    store.add_message(ids[0], "user", "otra", status="answered")
    changed = [
        p.name
        for p in (store.root / "index").glob("*.json")
        if p.stat().st_mtime_ns != months[p.name]
    ]
    assert changed == [f"{ids[0][:6]}.json"]


def test_history_reads_only_the_last_chunks(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_files, "CHUNK_SIZE", 4)
    session = store.create_session()
    for n in range(1, 21):
        role = "user" if n % 2 else "assistant"
        status = "failed" if n == 19 else "answered"
        store.add_message(session.id, role, f"m{n}", status=status, lease=None)
    read: list[int] = []
    real = SessionFiles.chunk_items

    def spy(self: SessionFiles, index: int):  # type: ignore[no-untyped-def]
        read.append(index)
        return real(self, index)

    monkeypatch.setattr(SessionFiles, "chunk_items", spy)
    latest = [m.text for m, _ in zip(store.latest_messages(session.id), range(6), strict=False)]
    assert latest == ["m20", "m19", "m18", "m17", "m16", "m15"]
    assert read == [4, 3]  # of chunks 0-4
    read.clear()
    before = [m.text for m, _ in zip(store.latest_messages(session.id, 9), range(3), strict=False)]
    assert before == ["m8", "m7", "m6"] and read == [1]


def test_an_empty_session_folder_does_not_make_every_read_rebuild(
    store: SessionStore, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _three_sessions(store, clock)
    (store.root / "sessions" / f"{ids[0][:8]}-000000-0000").mkdir()  # crash at creation
    assert len(store.summaries()) == 3
    reads: list[str] = []
    real = SessionFiles.read_state

    def spy(self: SessionFiles):  # type: ignore[no-untyped-def]
        reads.append(self.id)
        return real(self)

    monkeypatch.setattr(SessionFiles, "read_state", spy)
    assert len(store.summaries()) == 3 and reads == []
