"""How much do appends and cross-session reads cost once years of history are stored?

    python bench/bench_store.py                  # 1k, 10k and 100k messages already stored
    python bench/bench_store.py --sizes 100000 --adds 50

For each history size it measures ``SessionStore.add_message`` (median and p95 over
``--adds`` calls, each with fsync, as in real use) in two layouts:

* realistic: sessions of 20 messages (5,000 sessions at 100k), the adds continue the newest;
* worst case: all history in one huge session, and the adds go to that session.

It also times the reads that span sessions, all served by the month index (index.py):
``stats`` (what ``omar status`` reads), ``list_sessions``, ``pending``, and the review
queries (``summaries`` by review state, by code, by date range, with pending questions);
``history``, the last 12 turns ``omar ask`` sends; and ``rebuild``, the one-off cost of
rebuilding a lost index from every session file.

Seeding writes the session and chunk files directly (plain json.dump, no fsync), using the
store's own record and counters, because going through add_message 100k times would only
measure the seeding. The benchmark then checks the store reads the seeded history back.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omar_cli.store import Message, Review, SessionStore, Usage
from omar_cli.store.record import iso, to_doc
from omar_cli.store.session_files import (
    SESSION_FILE,
    chunk_index,
    chunk_name,
    count_message,
    new_session_doc,
)

QUESTION = "¿Qué significa F0001 en el ACS150 y qué reviso primero en el motor? " * 2
ANSWER = "F0001 SOBRECORRIENTE: la corriente de salida superó el límite [F0001]. " * 12
CODES = ("F0001", "F0002", "F0007", "A2001", "2202", "2203")


def _message_doc(seq: int, when: datetime, session_n: int) -> dict[str, Any]:
    user = seq % 2 == 1
    code = CODES[(session_n + seq) % len(CODES)]
    message = Message(
        id="",
        session_id="",
        seq=seq,
        role="user" if user else "assistant",  # type: ignore[arg-type]
        text=QUESTION.replace("F0001", code) if user else ANSWER,
        status="answered",  # type: ignore[arg-type]
        created_at=when,
        updated_at=when,
        model=None if user else "gpt-4o-mini",
        usage=None if user else Usage(900, 250, 1150),
        latency_ms=None if user else 1800,
        sources=() if user else (code, "2202"),
        mode=None if user else "online",  # type: ignore[arg-type]
        review=None if user else Review("approved" if seq % 10 == 0 else "pending"),  # type: ignore[arg-type]
    )
    return {**to_doc(message), "rev": seq}


#: a change to each seeded message document (session id, seq, document), for benches that
#: need more than bench_store's messages carry
Enrich = Callable[[str, int, dict[str, Any]], None]


def _seed_session(
    sessions_dir: Path,
    session_id: str,
    count: int,
    start: datetime,
    n: int,
    enrich: Enrich | None = None,
) -> None:
    folder = sessions_dir / session_id
    folder.mkdir(parents=True)
    state = new_session_doc(session_id, iso(start), "seeded", {})
    chunks: dict[int, dict[str, Any]] = {}
    when = start
    for seq in range(1, count + 1):
        when = start + timedelta(seconds=30 * seq)
        doc = _message_doc(seq, when, n)
        if enrich is not None:
            enrich(session_id, seq, doc)
        count_message(state, seq, doc, 1)
        chunks.setdefault(chunk_index(seq), {})[str(seq)] = doc
    state.update(
        message_count=count, rev=count, last_write=count, next_seq=count + 1, updated_at=iso(when)
    )
    (folder / SESSION_FILE).write_text(json.dumps({"session": {"1": state}}))
    for index, docs in chunks.items():
        (folder / chunk_name(index)).write_text(json.dumps({"messages": docs}))


def seed(root: Path, total: int, per_session: int, enrich: Enrich | None = None) -> str:
    """Write ``total`` messages in sessions of ``per_session``; returns the newest session."""
    store = SessionStore(root)
    store.add_media(b"", "txt")  # first write: lays out the store and records its schema
    start = datetime.now(UTC) - timedelta(days=3 * 365)
    step = timedelta(days=3 * 365) / max(1, total // per_session)
    session_id = ""
    for n in range(total // per_session):
        when = start + step * n
        session_id = f"{when:%Y%m%d-%H%M%S}-{n % 65536:04x}"
        _seed_session(root / "sessions", session_id, per_session, when, n, enrich)
    (root / "state.json").write_text(json.dumps({"state": {"1": {"recent_session": session_id}}}))
    return session_id


def _times_ms(action: Callable[[int], object], runs: int) -> list[float]:
    samples = []
    for i in range(runs):
        begin = time.perf_counter()
        action(i)
        samples.append((time.perf_counter() - begin) * 1000)
    return samples


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def _last_turns(store: SessionStore, session_id: str) -> list[Message]:
    # What Assistant._history reads: newest first, until 12 turns are found.
    turns = []
    for message in store.latest_messages(session_id):
        turns.append(message)
        if len(turns) == 12:
            break
    return turns


def measure(root: Path, total: int, per_session: int, adds: int) -> dict[str, Any]:
    session_id = seed(root, total, per_session)
    store = SessionStore(root)
    rebuild_ms = _times_ms(lambda _i: store.list_sessions(), 1)[0]  # no index yet: builds it
    assert store.get_session(session_id).message_count == per_session

    def add(i: int) -> None:
        role = "user" if i % 2 == 0 else "assistant"
        text = QUESTION if role == "user" else ANSWER
        store.add_message(session_id, role, text, status="answered", latency_ms=1500)

    add_ms = _times_ms(add, adds)
    assert len(_last_turns(store, session_id)) == 12
    year_ago = datetime.now(UTC) - timedelta(days=365)
    reads: dict[str, Callable[[int], object]] = {
        "stats": lambda _i: store.stats(),
        "list": lambda _i: store.list_sessions(),
        "pending": lambda _i: store.pending(),
        "by review": lambda _i: store.summaries(review="approved"),
        "by code": lambda _i: store.summaries(code="F0007"),
        "by dates": lambda _i: store.summaries(since=year_ago - timedelta(days=30), until=year_ago),
        "w/ pending": lambda _i: store.summaries(pending=True),
        "history": lambda _i: _last_turns(store, session_id),
    }
    row = {name: statistics.median(_times_ms(read, 5)) for name, read in reads.items()}
    assert store.stats().messages == total + adds
    if per_session < total:
        assert store.summaries(code="F0007") and store.summaries(review="approved")
    return {"add median": statistics.median(add_ms), "add p95": _p95(add_ms), **row,
            "rebuild": rebuild_ms}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--adds", type=int, default=200)
    parser.add_argument("--per-session", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=None, help="where to build the stores")
    args = parser.parse_args()
    print(f"{args.adds} adds each; median of 5 runs for reads; all times in ms")
    header = None
    for total in args.sizes:
        for layout, per_session in (
            (f"{args.per_session} msgs/session", args.per_session),
            ("one huge session", total),
        ):
            folder = Path(tempfile.mkdtemp(dir=args.dir))
            try:
                row = measure(folder / "store", total, per_session, args.adds)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            if header is None:
                header = f"{'history':>8}  {'layout':<18}" + "".join(f" {k:>10}" for k in row)
                print(header)
                print("-" * len(header))
            cells = "".join(f" {v:>10.1f}" for v in row.values())
            print(f"{total:>8}  {layout:<18}{cells}", flush=True)


if __name__ == "__main__":
    main()
