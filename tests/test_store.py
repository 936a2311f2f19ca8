"""The session store: round trips, chunking, counters, crash safety, locking, migrations."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from filelock import FileLock

from omar_cli import atomic
from omar_cli.errors import NotFoundError, StoreError
from omar_cli.store import MIGRATIONS, Migration, SessionStore, Usage, session_files, storage
from omar_cli.store.migrations import read_schema

pytestmark = pytest.mark.usefixtures("english_messages")  # the messages it reads

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 25, 12, 35, 1, tzinfo=UTC)


class FakeClock:
    """Moves one second per reading, so every timestamp differs and order is testable."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> SessionStore:
    return SessionStore(tmp_path / "store", clock=clock)


def all_json_files_valid(root: Path) -> list[Path]:
    files = sorted(p for p in root.rglob("*.json"))
    for path in files:
        assert isinstance(json.loads(path.read_text("utf-8")), dict), path
    return files


def assert_consistent(store: SessionStore, session_id: str) -> None:
    session = store.get_session(session_id)
    messages = store.messages(session_id)
    seqs = [m.seq for m in messages]
    # Strictly rising; a number an interrupted add took is skipped, never reused.
    assert seqs == sorted(set(seqs)) and len(seqs) == session.message_count
    pending = [m for m in messages if m.role == "user" and m.status == "pending"]
    assert session.pending_count == len(pending)


# -- round trip and basics ---------------------------------------------------------------


def test_opening_creates_nothing(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "store")
    assert store.list_sessions() == []
    assert store.pending() == []
    assert store.recent_session(timedelta(days=1)) is None
    assert not (tmp_path / "store").exists()


def test_round_trip_survives_reopening(store: SessionStore, clock: FakeClock) -> None:
    session = store.create_session("F0001 on pump 3", meta={"drive": "ACS150-03E-04A7-4"})
    asked = store.add_message(session.id, "user", "¿Qué es F0001?", status="pending")
    photo = store.add_media(b"\xff\xd8 fake jpeg", ".JPG")
    answer = store.add_message(
        session.id,
        "assistant",
        "Sobrecorriente.",
        status="answered",
        model="gpt-4o-mini",
        usage=Usage(120, 30, 150),
        latency_ms=840,
        media=(photo.sha256,),
        sources=("F0001", "2202"),
        mode="online",
        reply_to=asked.id,
        meta={"prompt_version": 3, "nested": {"a": [1, 2]}},
    )
    reopened = SessionStore(store.root, clock=clock)
    assert reopened.get_message(answer.id) == answer
    closed = reopened.get_message(asked.id)  # an answered reply closes its question
    assert (closed.status, closed.lease, asked.lease is not None) == ("answered", None, True)
    assert reopened.messages(session.id) == [closed, answer]
    assert answer.id == f"{session.id}.2" and answer.seq == 2
    assert answer.usage == Usage(120, 30, 150)
    assert answer.meta["nested"] == {"a": [1, 2]}
    assert answer.created_at.tzinfo is not None
    got = reopened.get_session(session.id)
    assert (got.title, got.message_count, got.pending_count) == ("F0001 on pump 3", 2, 0)
    assert got.meta == {"drive": "ACS150-03E-04A7-4"}
    assert got.updated_at == answer.created_at
    assert reopened.media_path(photo.sha256).read_bytes() == b"\xff\xd8 fake jpeg"


def test_update_message_changes_only_what_is_given(store: SessionStore) -> None:
    session = store.create_session()
    asked = store.add_message(session.id, "user", "q", status="pending", error="timeout")
    updated = store.update_message(asked.id, status="answered", error=None, sources=["F0002"])
    assert (updated.status, updated.error, updated.sources) == ("answered", None, ("F0002",))
    assert (updated.text, updated.created_at) == ("q", asked.created_at)
    assert updated.updated_at > asked.updated_at
    assert store.get_message(asked.id) == updated


def test_unknown_ids_are_not_found(store: SessionStore) -> None:
    session = store.create_session()
    for bad in ("nope", "../../etc", "20261125-123501-3f9a", session.id + "x"):
        with pytest.raises(NotFoundError):
            store.get_session(bad)
    for bad in (f"{session.id}.1", f"{session.id}.0", f"{session.id}.²", "x.1", "../a.1"):
        with pytest.raises(NotFoundError):
            store.get_message(bad)
    with pytest.raises(NotFoundError):
        store.update_message(f"{session.id}.9", status="failed")
    with pytest.raises(NotFoundError):
        store.add_message("20200101-000000-abcd", "user", "q", status="pending")


def test_caller_bugs_are_value_errors(store: SessionStore) -> None:
    session = store.create_session()
    with pytest.raises(ValueError, match="role"):
        store.add_message(session.id, "system", "q", status="pending")
    with pytest.raises(ValueError, match="status"):
        store.add_message(session.id, "user", "q", status="done")
    with pytest.raises(ValueError, match="sha256"):
        store.add_message(session.id, "user", "q", status="pending", media=("abc",))
    naive = SessionStore(store.root, clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="aware"):
        naive.create_session()


# -- chunking and counters ---------------------------------------------------------------


def test_chunks_roll_over_and_an_append_rewrites_one_chunk(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_files, "CHUNK_SIZE", 4)
    session = store.create_session()
    for i in range(9):
        store.add_message(session.id, "user", f"m{i + 1}", status="answered")
    folder = store.root / "sessions" / session.id
    chunks = sorted(p.name for p in folder.glob("messages-*.json"))
    assert chunks == ["messages-0000.json", "messages-0001.json", "messages-0002.json"]
    sizes = [len(json.loads((folder / c).read_text())["messages"]) for c in chunks]
    assert sizes == [4, 4, 1]

    written: list[str] = []
    real_write = storage.write_json_atomic

    def spy(path: Path, data: dict[str, object], **options: bool) -> None:
        written.append(path.relative_to(store.root).as_posix())
        real_write(path, data, **options)

    monkeypatch.setattr(storage, "write_json_atomic", spy)
    message = store.add_message(session.id, "user", "m10", status="answered")
    month = session.id[:6]
    chunk, state = (f"sessions/{session.id}/{n}" for n in ("messages-0002.json", "session.json"))
    assert sorted(written) == [f"index/{month}.json", chunk, state]
    assert [m.text for m in store.messages(session.id)] == [f"m{i}" for i in range(1, 11)]
    assert store.get_message(f"{session.id}.3").text == "m3"
    assert message.id == f"{session.id}.10"


def test_pending_counts_follow_status_changes(store: SessionStore, clock: FakeClock) -> None:
    first, second = store.create_session(), store.create_session()
    a = store.add_message(first.id, "user", "a", status="pending")
    store.add_message(first.id, "assistant", "streaming", status="pending")  # not a question
    b = store.add_message(second.id, "user", "b", status="pending")
    c = store.add_message(first.id, "user", "c", status="pending")
    store.add_message(second.id, "user", "d", status="answered")
    assert [m.id for m in store.pending()] == [a.id, b.id, c.id]  # oldest first
    assert store.get_session(first.id).pending_count == 2
    store.update_message(a.id, status="failed")
    store.update_message(b.id, status="answered")
    assert [m.id for m in store.pending()] == [c.id]
    assert store.get_session(first.id).pending_count == 1
    assert store.get_session(second.id).pending_count == 0
    store.update_message(a.id, status="pending")  # a retry puts it back in the queue
    assert [m.id for m in store.pending()] == [a.id, c.id]
    assert store.stats().pending == 2


def test_pending_only_reads_sessions_that_have_pending(store: SessionStore) -> None:
    quiet, busy = store.create_session(), store.create_session()
    store.add_message(quiet.id, "user", "q", status="answered")
    waiting = store.add_message(busy.id, "user", "w", status="pending")
    (store.root / "sessions" / quiet.id / "messages-0000.json").write_text("{broken")
    assert [m.id for m in store.pending()] == [waiting.id]


def test_stats_come_from_session_counters(store: SessionStore) -> None:
    one, two = store.create_session(), store.create_session()
    store.add_message(one.id, "user", "q1", status="pending")
    store.add_message(one.id, "assistant", "a1", status="answered", latency_ms=1000)
    store.add_message(two.id, "user", "q2", status="offline")
    store.add_message(two.id, "assistant", "a2", status="answered", latency_ms=3000)
    answer = store.add_message(two.id, "assistant", "a3", status="incomplete", latency_ms=500)
    store.update_message(answer.id, status="answered", latency_ms=2000)
    stats = store.stats()
    assert (stats.sessions, stats.messages, stats.pending, stats.answered) == (2, 5, 1, 3)
    assert stats.avg_latency_ms == pytest.approx(2000.0)
    assert stats.path == store.root and stats.size_bytes > 0


def test_recent_session_window_and_listing(store: SessionStore, clock: FakeClock) -> None:
    older = store.create_session("older")
    store.add_message(older.id, "user", "q", status="answered")
    clock.advance(minutes=4)
    assert store.recent_session(timedelta(minutes=5)) == store.get_session(older.id)
    clock.advance(minutes=3)
    assert store.recent_session(timedelta(minutes=5)) is None
    newer = store.create_session("newer")
    assert store.recent_session(timedelta(minutes=5)) == store.get_session(newer.id)
    store.add_message(older.id, "user", "back to it", status="answered")
    recent = store.recent_session(timedelta(minutes=5))
    assert recent is not None and recent.id == older.id
    assert [s.title for s in store.list_sessions()] == ["older", "newer"]
    assert [s.title for s in store.list_sessions(limit=1)] == ["older"]


# -- crash safety ------------------------------------------------------------------------


def test_failed_replace_keeps_the_old_file_whole(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = store.create_session()
    store.add_message(session.id, "user", "first", status="answered")
    chunk = store.root / "sessions" / session.id / "messages-0000.json"
    before = chunk.read_bytes()

    def replace_fails(src: str, dst: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", replace_fails)
    with pytest.raises(StoreError, match="No space left"):
        store.add_message(session.id, "user", "second", status="answered")
    assert chunk.read_bytes() == before
    assert not list(chunk.parent.glob("*.tmp"))  # the temp file was cleaned up


def test_interrupt_between_session_file_and_chunk_is_recounted(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = store.create_session()
    store.add_message(session.id, "user", "kept", status="pending")
    chunk = store.root / "sessions" / session.id / "messages-0000.json"
    before = chunk.read_bytes()
    real_replace = atomic._replace

    def interrupted(src: str, dst: Path) -> None:
        # Ctrl-C after the session file is in place, while the chunk is being written.
        if dst.name.startswith("messages-"):
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(atomic, "_replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.add_message(session.id, "user", "lost", status="pending")
    monkeypatch.undo()
    assert chunk.read_bytes() == before
    assert not list(chunk.parent.glob("*.tmp"))
    assert store.get_session(session.id).message_count == 2  # counters ran ahead ...
    after = store.add_message(session.id, "user", "next", status="pending")  # ... until a write
    assert [m.text for m in store.messages(session.id)] == ["kept", "next"]
    assert after.seq == 3  # 2 may be in a chunk moved aside, as far as the store can tell
    assert_consistent(store, session.id)


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from omar_cli.store import SessionStore

    store = SessionStore(Path(sys.argv[1]))
    session_id = sys.argv[2]
    n = 0
    while True:
        n += 1
        m = store.add_message(session_id, "user", "x" * 20000 + str(n), status="pending")
        if n % 3 == 0:
            store.update_message(m.id, status="answered")
        if n == 5:
            print("running", flush=True)
    """
)


def _python(*args: str) -> list[str]:
    return [sys.executable, "-c", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def test_killed_writer_leaves_a_valid_store(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "store", lock_timeout=5)
    session = store.create_session()
    for delay in (0.0, 0.037, 0.081, 0.123):
        proc = subprocess.Popen(
            _python(WRITER, str(store.root), session.id),
            stdout=subprocess.PIPE,
            env=_env(),
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"running"
        time.sleep(delay)
        proc.kill()  # SIGKILL on POSIX, TerminateProcess on Windows
        proc.wait()
        all_json_files_valid(store.root)
        store.update_message(f"{session.id}.1", error=None)  # a write recounts the session
        assert_consistent(store, session.id)
    store.add_message(session.id, "user", "after the kills", status="pending")
    assert_consistent(store, session.id)
    assert store.messages(session.id)[-1].text == "after the kills"


# -- corruption ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        b'{"session": {"1": {"id": "x"',  # torn
        b"",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"session": {"1": {"id": "x"}}}',  # valid JSON, not a session
        b'{"session": {"one": {}}}',  # TinyDB itself would choke on the id
    ],
)
def test_corrupt_session_file_is_reported_and_left_alone(
    store: SessionStore, garbage: bytes
) -> None:
    session = store.create_session()
    path = store.root / "sessions" / session.id / "session.json"
    path.write_bytes(garbage)
    for action in (
        lambda: store.get_session(session.id),
        lambda: store.add_message(session.id, "user", "q", status="pending"),
        lambda: store.messages(session.id),
    ):
        with pytest.raises(StoreError) as caught:
            action()
        assert str(path) in caught.value.message
        assert caught.value.hint is not None and "Move it aside" in caught.value.hint
    assert store.list_sessions() == []
    assert [d.path for d in store.damaged_sessions()] == [path]
    assert path.read_bytes() == garbage


def test_corrupt_chunk_is_never_overwritten(store: SessionStore) -> None:
    session = store.create_session()
    store.add_message(session.id, "user", "q", status="pending")
    chunk = store.root / "sessions" / session.id / "messages-0000.json"
    chunk.write_text('{"messages": {"1": ')
    with pytest.raises(StoreError, match=re.escape(str(chunk))):
        store.add_message(session.id, "user", "q2", status="pending")
    with pytest.raises(StoreError, match="corrupt"):
        store.messages(session.id)
    assert chunk.read_text() == '{"messages": {"1": '


def test_malformed_message_is_reported_not_a_key_error(store: SessionStore) -> None:
    session = store.create_session()
    message = store.add_message(session.id, "user", "q", status="pending")
    chunk = store.root / "sessions" / session.id / "messages-0000.json"
    data = json.loads(chunk.read_text())
    del data["messages"]["1"]["text"]
    data["messages"]["1"]["created_at"] = "yesterday"
    chunk.write_text(json.dumps(data))
    for action in (lambda: store.get_message(message.id), lambda: store.messages(session.id)):
        with pytest.raises(StoreError, match=r"message 1: .*'created_at'"):
            action()


def test_corrupt_meta_file_fails_at_open(tmp_path: Path) -> None:
    SessionStore(tmp_path).create_session()
    (tmp_path / "meta.json").write_text("not json")
    with pytest.raises(StoreError, match=re.escape(str(tmp_path / "meta.json"))) as caught:
        SessionStore(tmp_path)
    assert caught.value.hint is not None and "never guesses" in caught.value.hint
    assert (tmp_path / "meta.json").read_text() == "not json"


def test_unusable_folder_is_a_store_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(StoreError, match="cannot read"):
        SessionStore(not_a_folder / "store")


# -- migrations ----------------------------------------------------------------------------


def test_migrations_run_in_order_once_and_are_recorded(tmp_path: Path) -> None:
    ran: list[str] = []

    def step(name: str) -> Migration:
        return Migration(int(name[1]), name, lambda root: ran.append(name))

    SessionStore(tmp_path, migrations=[MIGRATIONS[0]]).create_session()
    assert read_schema(tmp_path)[0] == 1
    migrations = [MIGRATIONS[0], step("v2-add-x"), step("v3-add-y")]
    assert ran == []
    SessionStore(tmp_path, migrations=migrations)  # applied at open, not at first write
    assert ran == ["v2-add-x", "v3-add-y"]
    version, applied = read_schema(tmp_path)
    assert version == 3
    assert [a["name"] for a in applied] == ["initial-layout", "v2-add-x", "v3-add-y"]
    SessionStore(tmp_path, migrations=migrations).create_session()
    assert ran == ["v2-add-x", "v3-add-y"]

    with pytest.raises(StoreError, match="schema version 3") as caught:
        SessionStore(tmp_path, migrations=[MIGRATIONS[0]])
    assert caught.value.hint is not None and "upgrade omar" in caught.value.hint


def test_a_fresh_store_runs_all_migrations_at_first_write(tmp_path: Path) -> None:
    ran: list[Path] = []
    migrations = [MIGRATIONS[0], Migration(2, "second", ran.append)]
    store = SessionStore(tmp_path / "s", migrations=migrations)
    assert ran == []
    store.create_session()
    assert ran == [tmp_path / "s"] and read_schema(tmp_path / "s")[0] == 2


def test_malformed_migration_lists_are_refused(tmp_path: Path) -> None:
    noop = MIGRATIONS[0].apply
    with pytest.raises(ValueError, match="gaps"):
        SessionStore(tmp_path, migrations=[MIGRATIONS[0], Migration(3, "x", noop)])
    with pytest.raises(ValueError, match="unique"):
        SessionStore(tmp_path, migrations=[MIGRATIONS[0], Migration(2, "initial-layout", noop)])


# -- media --------------------------------------------------------------------------------


def test_media_is_content_addressed_and_stored_once(store: SessionStore) -> None:
    first = store.add_media(b"same bytes", "jpg")
    again = store.add_media(b"same bytes", ".JPEG")
    other = store.add_media(b"other bytes", "wav")
    assert again == first
    assert first.path == store.root / "media" / first.sha256[:2] / f"{first.sha256}.jpg"
    assert (first.size, first.suffix, other.suffix) == (10, "jpg", "wav")
    assert len([p for p in (store.root / "media").rglob("*") if p.is_file()]) == 2
    with pytest.raises(NotFoundError):
        store.media_path("0" * 64)
    with pytest.raises(ValueError):
        store.add_media(b"x", "../evil")


# -- concurrency ---------------------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from omar_cli.store import SessionStore

    store = SessionStore(Path(sys.argv[1]), lock_timeout=60)
    shared, name = sys.argv[2], sys.argv[3]
    own = store.create_session(name)
    for i in range(25):
        store.add_message(shared, "user", f"{name}-{i}", status="pending")
        store.add_message(own.id, "user", f"{name}-{i}", status="answered")
    """
)


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "store")
    shared = store.create_session("shared")
    workers = [
        subprocess.Popen(_python(WORKER, str(store.root), shared.id, f"w{n}"), env=_env())
        for n in range(8)
    ]
    assert [w.wait(timeout=120) for w in workers] == [0] * 8
    all_json_files_valid(store.root)
    texts = [m.text for m in store.messages(shared.id)]
    assert len(texts) == 200
    for n in range(8):  # each worker's messages arrive whole and in its own order
        assert [t for t in texts if t.startswith(f"w{n}-")] == [f"w{n}-{i}" for i in range(25)]
    assert_consistent(store, shared.id)
    assert store.get_session(shared.id).pending_count == 200
    own = [s for s in store.list_sessions() if s.title != "shared"]
    assert sorted(s.title or "" for s in own) == [f"w{n}" for n in range(8)]
    assert all(s.message_count == 25 for s in own)
    stats = store.stats()
    assert (stats.sessions, stats.messages, stats.pending) == (9, 400, 200)


def test_lock_timeout_is_a_store_error(store: SessionStore) -> None:
    session = store.create_session()
    impatient = SessionStore(store.root, lock_timeout=0.05)
    with FileLock(str(store.root / ".lock")):
        with pytest.raises(StoreError, match="locked") as caught:
            impatient.add_message(session.id, "user", "q", status="pending")
        assert caught.value.hint is not None and "another omar" in caught.value.hint.lower()
        assert impatient.get_session(session.id).message_count == 0  # reads need no lock
        with pytest.raises(StoreError, match=r"answer was not stored; question .* stays pending"):
            impatient.add_message(
                session.id, "assistant", "a", status="answered", reply_to=f"{session.id}.1"
            )
    impatient.add_message(session.id, "user", "q", status="pending")


def _start_waiting(script: str, *args: str) -> subprocess.Popen[str]:
    """A worker that has done its imports and waits for a line on stdin to go on."""
    proc = subprocess.Popen(
        _python(script, *args),
        env=_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _release(procs: list[subprocess.Popen[str]]) -> list[str]:
    for proc in procs:  # all are waiting, so they start within a few milliseconds
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=60)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * len(procs)
    return outputs


CHOOSER = textwrap.dedent(
    """
    import sys
    from datetime import timedelta
    from pathlib import Path
    from omar_cli.store import SessionStore

    store = SessionStore(Path(sys.argv[1]), lock_timeout=60)
    print("ready", flush=True)
    sys.stdin.readline()
    session, created = store.recent_or_create(timedelta(minutes=30), title="first")
    print(session.id, created)
    """
)


def test_first_asks_at_once_share_one_new_session(tmp_path: Path) -> None:
    root = tmp_path / "store"
    procs = [_start_waiting(CHOOSER, str(root)) for _ in range(12)]
    results = [line.split() for line in _release(procs)]
    sessions = SessionStore(root).list_sessions()
    assert len(sessions) == 1
    assert {session_id for session_id, _created in results} == {sessions[0].id}
    assert sorted(created for _id, created in results) == ["False"] * 11 + ["True"]
    assert sessions[0].title == "first"


def test_recent_or_create_reuses_only_a_recent_session(
    store: SessionStore, clock: FakeClock
) -> None:
    first, created = store.recent_or_create(timedelta(minutes=30))
    assert created and store.list_sessions() == [first]
    again, created = store.recent_or_create(timedelta(minutes=30), title="ignored")
    assert (again, created) == (first, False)
    clock.advance(minutes=31)
    fresh, created = store.recent_or_create(timedelta(minutes=30), title="new")
    assert created and fresh.id != first.id and fresh.title == "new"
    assert store.recent_session(timedelta(minutes=30)) == fresh


SYNCER = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path
    from omar_cli.store import SessionStore

    store = SessionStore(Path(sys.argv[1]), lock_timeout=60)
    log, name = Path(sys.argv[2]), sys.argv[3]

    def note(line):
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{name} {line}\\n")

    print("ready", flush=True)
    sys.stdin.readline()
    with store.sync_lock():
        note("enter")
        for asked in store.pending():
            time.sleep(0.05)  # the network call
            store.update_message(asked.id, status="answered")
            note(f"sent {asked.id}")
        note("exit")
    """
)


def test_two_syncs_at_once_send_each_question_once(store: SessionStore, tmp_path: Path) -> None:
    session = store.create_session()
    asked = [store.add_message(session.id, "user", f"q{i}", status="pending") for i in range(3)]
    log = tmp_path / "sync.log"
    procs = [_start_waiting(SYNCER, str(store.root), str(log), name) for name in ("a", "b")]
    _release(procs)
    lines = log.read_text("utf-8").splitlines()
    first, second = lines[0].split()[0], lines[-1].split()[0]
    assert first != second
    # The critical sections do not overlap: one sync runs whole, then the other.
    assert lines == [
        f"{first} enter",
        *(f"{first} sent {m.id}" for m in asked),
        f"{first} exit",
        f"{second} enter",
        f"{second} exit",
    ]
    assert store.pending() == []


HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from omar_cli.store import SessionStore

    store = SessionStore(Path(sys.argv[1]))
    with store.sync_lock():
        print("ready", flush=True)
        sys.stdin.readline()
    """
)


def test_a_held_sync_lock_blocks_syncs_but_not_writes(store: SessionStore) -> None:
    session = store.create_session()
    holder = _start_waiting(HOLDER, str(store.root))
    try:
        impatient = SessionStore(store.root, lock_timeout=1)
        asked = impatient.add_message(session.id, "user", "q", status="pending")
        impatient.recent_or_create(timedelta(minutes=30))
        assert impatient.pending() == [asked]
        with (
            pytest.raises(StoreError, match="another omar sync") as caught,
            impatient.sync_lock(timeout=0.05),
        ):
            pytest.fail("took a sync lock another process holds")
        assert caught.value.hint is not None and "omar sync" in caught.value.hint
    finally:
        _release([holder])
    with impatient.sync_lock(timeout=0.05), impatient.sync_lock(timeout=0.05):
        pass  # free again, and reentrant within one thread


def test_pending_is_read_afresh_on_every_call(store: SessionStore) -> None:
    session = store.create_session()
    first = store.add_message(session.id, "user", "q1", status="pending")
    assert store.pending() == [first]
    other = SessionStore(store.root)  # stands for another process
    other.update_message(first.id, status="answered")
    second = other.add_message(session.id, "user", "q2", status="pending")
    assert store.pending() == [second]


# -- one damaged session leaves the others readable ------------------------------------------


def test_a_corrupt_session_file_is_skipped_by_whole_store_reads(store: SessionStore) -> None:
    healthy, broken = store.create_session("healthy"), store.create_session("broken")
    waiting = store.add_message(healthy.id, "user", "q", status="pending")
    store.add_message(broken.id, "user", "lost", status="pending")
    path = store.root / "sessions" / broken.id / "session.json"
    path.write_text("{torn")
    assert [s.id for s in store.list_sessions()] == [healthy.id]
    assert store.pending() == [waiting]
    stats = store.stats()
    assert (stats.sessions, stats.messages, stats.pending) == (1, 1, 1)
    assert stats.damaged == (str(path),)
    [damaged] = store.damaged_sessions()
    assert (damaged.session_id, damaged.path) == (broken.id, path)
    assert str(path) in damaged.problem and damaged.hint is not None
    with pytest.raises(StoreError, match=re.escape(str(path))):
        store.messages(broken.id)
    assert path.read_text() == "{torn"


def test_a_corrupt_chunk_holding_a_pending_question_is_skipped_and_reported(
    store: SessionStore,
) -> None:
    healthy, broken = store.create_session(), store.create_session()
    waiting = store.add_message(healthy.id, "user", "q", status="pending")
    store.add_message(broken.id, "user", "q", status="pending")
    chunk = store.root / "sessions" / broken.id / "messages-0000.json"
    chunk.write_text('{"messages": {"1": ')
    assert store.pending() == [waiting]
    assert [(d.session_id, d.path) for d in store.damaged_sessions()] == [(broken.id, chunk)]
    assert store.stats().damaged == (str(chunk),)
    assert {s.id for s in store.list_sessions()} == {healthy.id, broken.id}
    assert chunk.read_text() == '{"messages": {"1": '


def test_a_healthy_store_reports_nothing_damaged(store: SessionStore) -> None:
    store.add_message(store.create_session().id, "user", "q", status="pending")
    assert store.damaged_sessions() == [] and store.stats().damaged == ()


# -- meta.json is never guessed at -----------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "{}",
        '{"schema": {}}',
        '{"other": {"1": {"schema_version": 1}}}',
        '{"schema": {"1": {"schema_version": 0, "applied": []}}}',
        '{"schema": {"1": {"schema_version": true, "applied": []}}}',
        '{"schema": {"1": {"schema_version": 1, "applied": {}}}}',
    ],
)
def test_a_malformed_meta_file_is_an_error_and_left_alone(tmp_path: Path, content: str) -> None:
    SessionStore(tmp_path).create_session()
    meta = tmp_path / "meta.json"
    meta.write_text(content)
    with pytest.raises(StoreError, match=re.escape(str(meta))):
        SessionStore(tmp_path)
    with pytest.raises(StoreError, match=re.escape(str(meta))):
        read_schema(tmp_path)
    assert meta.read_text() == content


def test_a_missing_meta_file_beside_sessions_is_an_error(tmp_path: Path) -> None:
    session = SessionStore(tmp_path).create_session()
    (tmp_path / "meta.json").unlink()
    with pytest.raises(StoreError, match=re.escape(str(tmp_path / "meta.json"))) as caught:
        SessionStore(tmp_path).get_session(session.id)
    assert caught.value.hint is not None
    assert not (tmp_path / "meta.json").exists()


def test_a_missing_meta_file_on_an_empty_store_initialises_it(tmp_path: Path) -> None:
    (tmp_path / "sessions").mkdir()  # a first run that crashed before recording migration 1
    (tmp_path / "media").mkdir()
    SessionStore(tmp_path).create_session()
    assert read_schema(tmp_path)[0] == len(MIGRATIONS)


# -- sequence numbers never go backwards -------------------------------------------------------


def test_ids_are_not_reused_after_a_chunk_is_moved_aside(store: SessionStore) -> None:
    session = store.create_session()
    old = [store.add_message(session.id, "user", f"m{i}", status="pending") for i in range(3)]
    chunk = store.root / "sessions" / session.id / "messages-0000.json"
    chunk.rename(chunk.with_name(chunk.name + ".corrupt"))  # as the StoreError hint says
    new = store.add_message(session.id, "user", "after", status="pending")
    assert new.seq == 4 and new.id not in {m.id for m in old}
    assert store.messages(session.id) == [new]
    got = store.get_session(session.id)
    assert (got.message_count, got.pending_count) == (1, 1)
    assert store.pending() == [new]
    reopened = SessionStore(store.root)
    assert reopened.add_message(session.id, "user", "again", status="pending").seq == 5


def test_a_missing_chunk_in_the_middle_is_tolerated(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_files, "CHUNK_SIZE", 4)
    session = store.create_session()
    for i in range(9):
        store.add_message(session.id, "user", f"m{i + 1}", status="answered")
    folder = store.root / "sessions" / session.id
    (folder / "messages-0001.json").rename(folder / "elsewhere.json")
    (folder / "messages-0002.json").rename(folder / "elsewhere-2.json")
    added = store.add_message(session.id, "user", "m10", status="answered")
    assert added.seq == 10
    assert [m.seq for m in store.messages(session.id)] == [1, 2, 3, 4, 10]
    assert store.get_session(session.id).message_count == 5


def test_a_session_file_copied_into_another_folder_is_damage(store: SessionStore) -> None:
    first, second = store.create_session(), store.create_session()
    folder = store.root / "sessions"
    (folder / second.id / "session.json").write_bytes(
        (folder / first.id / "session.json").read_bytes()
    )
    assert [s.id for s in store.list_sessions()] == [first.id]
    with pytest.raises(StoreError, match=f"names session '{first.id}'"):
        store.get_session(second.id)


def test_a_session_file_without_next_seq_continues_after_its_count(store: SessionStore) -> None:
    session = store.create_session()
    store.add_message(session.id, "user", "q1", status="answered")
    store.add_message(session.id, "user", "q2", status="answered")
    path = store.root / "sessions" / session.id / "session.json"
    data = json.loads(path.read_text())
    del data["session"]["1"]["next_seq"]  # as written before the field existed
    path.write_text(json.dumps(data))
    assert [m.seq for m in store.messages(session.id)] == [1, 2]
    assert store.add_message(session.id, "user", "q3", status="answered").seq == 3
