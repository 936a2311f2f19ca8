"""How much does adding a message cost once years of history are stored?

    python bench/bench_store.py                  # 1k, 10k and 100k messages already stored
    python bench/bench_store.py --sizes 1000 --adds 50

For each history size it measures ``SessionStore.add_message`` (median and p95 over
``--adds`` calls, each with fsync, as in real use) in two layouts:

* realistic: sessions of 20 messages, and the adds continue the most recent session;
* worst case: all history in one huge session, and the adds go to that session.

It also times the calls that *do* read every session's small file (``stats``,
``list_sessions``, ``pending``), so their growth is visible rather than hidden.

Seeding writes the session and chunk files directly (plain json.dump, no fsync), using the
store's own document builders, because going through add_message 100k times would only
measure the seeding. The benchmark then checks the store reads the seeded history back.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omar_cli.store import SessionStore, Usage
from omar_cli.store.model import iso, usage_to_doc
from omar_cli.store.session_files import (
    SESSION_FILE,
    chunk_index,
    chunk_name,
    count_message,
    new_session_doc,
)

QUESTION = "¿Qué significa F0001 en el ACS150 y qué reviso primero en el motor? " * 2
ANSWER = "F0001 SOBRECORRIENTE: la corriente de salida superó el límite [F0001]. " * 12


def _message_doc(seq: int, when: datetime) -> dict[str, Any]:
    user = seq % 2 == 1
    return {
        "role": "user" if user else "assistant",
        "text": QUESTION if user else ANSWER,
        "status": "answered",
        "model": None if user else "gpt-4o-mini",
        "usage": None if user else usage_to_doc(Usage(900, 250, 1150)),
        "latency_ms": None if user else 1800,
        "media": [],
        "sources": [] if user else ["F0001", "2202"],
        "mode": None if user else "online",
        "reply_to": None,
        "error": None,
        "meta": {},
        "created_at": iso(when),
        "updated_at": iso(when),
        "rev": seq,
    }


def _seed_session(sessions_dir: Path, session_id: str, count: int, start: datetime) -> None:
    folder = sessions_dir / session_id
    folder.mkdir(parents=True)
    state = new_session_doc(session_id, iso(start), "seeded", {})
    chunks: dict[int, dict[str, Any]] = {}
    when = start
    for seq in range(1, count + 1):
        when = start + timedelta(seconds=30 * seq)
        doc = _message_doc(seq, when)
        count_message(state, seq, doc, 1)
        chunks.setdefault(chunk_index(seq), {})[str(seq)] = doc
    state.update(message_count=count, rev=count, last_write=count, updated_at=iso(when))
    (folder / SESSION_FILE).write_text(json.dumps({"session": {"1": state}}))
    for index, docs in chunks.items():
        (folder / chunk_name(index)).write_text(json.dumps({"messages": docs}))


def seed(root: Path, total: int, per_session: int) -> str:
    """Write ``total`` messages in sessions of ``per_session``; returns the newest session."""
    store = SessionStore(root)
    store.add_media(b"", "txt")  # first write: lays out the store and records its schema
    start = datetime.now(UTC) - timedelta(days=3 * 365)
    step = timedelta(days=3 * 365) / max(1, total // per_session)
    session_id = ""
    for n in range(total // per_session):
        when = start + step * n
        session_id = f"{when:%Y%m%d-%H%M%S}-{n % 65536:04x}"
        _seed_session(root / "sessions", session_id, per_session, when)
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


def measure(root: Path, total: int, per_session: int, adds: int) -> dict[str, Any]:
    session_id = seed(root, total, per_session)
    store = SessionStore(root)
    assert store.get_session(session_id).message_count == per_session

    def add(i: int) -> None:
        role = "user" if i % 2 == 0 else "assistant"
        text = QUESTION if role == "user" else ANSWER
        store.add_message(session_id, role, text, status="answered", latency_ms=1500)

    add_ms = _times_ms(add, adds)
    assert len(store.messages(session_id)) == per_session + adds
    read_ms = {
        "stats": min(_times_ms(lambda _i: store.stats(), 3)),
        "list_sessions": min(_times_ms(lambda _i: store.list_sessions(), 3)),
        "pending": min(_times_ms(lambda _i: store.pending(), 3)),
    }
    assert store.stats().messages == total + adds
    return {"median": statistics.median(add_ms), "p95": _p95(add_ms), **read_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--adds", type=int, default=200)
    parser.add_argument("--per-session", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=None, help="where to build the stores")
    args = parser.parse_args()
    header = (
        f"{'history':>8}  {'layout':<22} {'add median':>10} {'add p95':>8}"
        f" {'stats':>8} {'list':>8} {'pending':>8}"
    )
    print(f"add_message cost, {args.adds} adds each; all times in ms")
    print(header)
    print("-" * len(header))
    for total in args.sizes:
        for layout, per_session in (
            (f"{args.per_session} msgs/session", args.per_session),
            ("one huge session", total),
        ):
            with tempfile.TemporaryDirectory(dir=args.dir) as folder:
                row = measure(Path(folder) / "store", total, per_session, args.adds)
            print(
                f"{total:>8}  {layout:<22} {row['median']:>10.2f} {row['p95']:>8.2f}"
                f" {row['stats']:>8.1f} {row['list_sessions']:>8.1f} {row['pending']:>8.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
