"""Writes tests/data/store_v1: a session store as omar's schema-1 code (commit c923e36) left it.

Run once, with the schema-1 code, and commit the files: the upgrade tests open a copy of this
store with the current code. Running it again with newer code would write a newer store, so
it refuses to when the store package no longer has the schema-1 signature.

    python tests/data/make_store_v1.py
"""

from __future__ import annotations

import inspect
import json
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from omar_cli.store import SessionStore, Usage

OUT = Path(__file__).parent / "store_v1"
EXPECTED = Path(__file__).parent / "store_v1.expected.json"
PHOTO = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")  # a tiny JPEG shell


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=7)
        return self.now


def main() -> None:
    if "meta" not in inspect.signature(SessionStore.add_message).parameters:
        sys.exit("this is not the schema-1 store code; check out c923e36 to regenerate")
    shutil.rmtree(OUT, ignore_errors=True)
    store = SessionStore(OUT, clock=Clock())
    meta = {"prompt_version": "2026-11-a", "finish_reason": "stop"}

    # 1. answered online, with usage; a follow-up answered too (safety note appended)
    s1 = store.create_session()
    q = store.add_message(s1.id, "user", "¿Qué significa F0002?", status="pending")
    store.add_message(
        s1.id, "assistant", "F0002 es sobretensión en el bus de CC [F0002].",
        status="answered", mode="online", model="gpt-4o-mini",
        usage=Usage(812, 64, 876), latency_ms=1430, sources=("F0002",), reply_to=q.id,
        meta=meta,
    )  # fmt: skip
    store.update_message(q.id, status="answered")
    q = store.add_message(s1.id, "user", "¿y si persiste?", status="pending")
    store.add_message(
        s1.id, "assistant", "Revise la rampa de deceleración.\n\n⚠ Espere 5 minutos.",
        status="answered", mode="online", model="gpt-4o-mini",
        usage=Usage(900, 40, 940), latency_ms=980, sources=("F0002", "2203"), reply_to=q.id,
        meta={**meta, "safety_appended": True},
    )  # fmt: skip
    store.update_message(q.id, status="answered")

    # 2. offline answer; a question queued for sync with an offline answer; a failed one
    s2 = store.create_session()
    q = store.add_message(s2.id, "user", "código A2001", status="pending")
    store.add_message(
        s2.id, "assistant", "A2001: sobrecorriente (respuesta sin conexión).",
        status="offline", mode="offline", sources=("A2001",), reply_to=q.id,
    )  # fmt: skip
    store.update_message(q.id, status="offline")
    q = store.add_message(s2.id, "user", "¿cómo reinicio el variador?", status="pending")
    store.add_message(
        s2.id, "assistant", "Pulse RESET (respuesta sin conexión).",
        status="offline", mode="offline", sources=("F0001",), reply_to=q.id,
    )  # fmt: skip
    q = store.add_message(s2.id, "user", "pregunta rechazada", status="pending")
    store.update_message(q.id, status="failed", error="the model 'gpt-x' does not exist")
    store.add_message(
        s2.id, "assistant", "Respuesta sin conexión.",
        status="offline", mode="offline", reply_to=q.id,
    )  # fmt: skip

    # 3. a stream cut midway: partial answer kept, question left pending; a photo question
    s3 = store.create_session(title="Bomba 3")
    q = store.add_message(s3.id, "user", "¿qué parámetro ajusta la rampa?", status="pending")
    store.add_message(
        s3.id, "assistant", "El parámetro 2202 ajusta", status="incomplete", mode="online",
        model="gpt-4o-mini", sources=("2202",), reply_to=q.id,
        error="the connection dropped mid-answer", meta={"prompt_version": "2026-11-a"},
    )  # fmt: skip
    store.update_message(q.id, status="pending", error="the connection dropped mid-answer")
    photo = store.add_media(PHOTO, "jpg")
    store.add_message(s3.id, "user", "¿qué indica esta pantalla?", status="pending",
                      media=(photo.sha256,))  # fmt: skip

    # 4. a long session spanning two chunks, its last question asked and never answered
    s4 = store.create_session()
    for n in range(1, 131):
        q = store.add_message(s4.id, "user", f"pregunta {n}", status="pending")
        store.add_message(
            s4.id, "assistant", f"respuesta {n}", status="answered", mode="online",
            model="gpt-4o-mini", reply_to=q.id, latency_ms=500 + n,
        )  # fmt: skip
        store.update_message(q.id, status="answered")
    store.add_message(s4.id, "user", "última pregunta, sin respuesta", status="pending")
    for lock in (".lock", ".sync.lock"):
        (OUT / lock).unlink(missing_ok=True)
    write_expected(store)
    print(f"wrote {OUT}: sessions {s1.id} {s2.id} {s3.id} {s4.id}")


def write_expected(store: SessionStore) -> None:
    """What the schema-1 code reads back, so the upgrade test can compare field by field."""
    sessions = []
    for session in sorted(store.list_sessions(), key=lambda s: s.id):
        messages = []
        for m in store.messages(session.id):
            fields = {k: v for k, v in m.__dict__.items() if k not in ("usage", "meta")}
            fields["usage"] = m.usage.__dict__ if m.usage else None
            fields["meta"] = dict(m.meta)
            messages.append(fields)
        sessions.append({"id": session.id, "title": session.title, "messages": messages})
    data = {"sessions": sessions, "pending": [m.id for m in store.pending()]}
    text = json.dumps(data, ensure_ascii=False, indent=1, default=str)
    EXPECTED.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
