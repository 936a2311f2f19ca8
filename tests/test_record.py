"""The message record is described once: every field round-trips, old documents still read."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from omar_cli.store import (
    Grounding,
    Lease,
    Message,
    Mode,
    Provenance,
    Review,
    ReviewState,
    Role,
    Status,
    Usage,
)
from omar_cli.store.record import RecordError, check, from_doc, to_doc

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def full_message() -> Message:
    return Message(
        id="20261125-120000-abcd.2",
        session_id="20261125-120000-abcd",
        seq=2,
        role=Role.ASSISTANT,
        text="Revise 2202.\n\n⚠ Espere 5 minutos.",
        status=Status.ANSWERED,
        created_at=T0,
        updated_at=T0 + timedelta(seconds=3),
        model="gpt-4o-mini",
        usage=Usage(800, 60, 860),
        latency_ms=1200,
        media=("ab" * 32,),
        sources=("F0001", "2202"),
        mode=Mode.ONLINE,
        reply_to="20261125-120000-abcd.1",
        error=None,
        review=Review(ReviewState.EDITED, "Revise 2202 y 2203.", "faltaba 2203", "ana", T0),
        provenance=Provenance(
            model_text="Revise 2202.",
            safety_note="Espere 5 minutos.",
            grounding=Grounding(("F0001", "2202"), "cd" * 32, "[F0001] Sobrecorriente…"),
            prompt_version="2026-11-a",
            endpoint_host="api.openai.com",
            request={"temperature": 0.2, "max_tokens": 600},
            finish_reason="stop",
        ),
        lease=Lease("taller-pc:4242", T0 + timedelta(minutes=15)),
        meta={"drive": "ACS150"},
    )


def test_every_field_round_trips_through_a_document() -> None:
    message = full_message()
    doc = to_doc(message)
    assert "id" not in doc and "seq" not in doc  # identity lives in the file and key
    identity = {"id": message.id, "session_id": message.session_id, "seq": message.seq}
    assert from_doc(Message, doc, **identity) == message
    names = {f.name for f in dataclasses.fields(Message)} - set(identity)
    assert set(doc) == names  # nothing is stored that the record does not name


def test_a_document_from_before_a_field_existed_reads_with_its_default() -> None:
    doc = to_doc(full_message())
    for newer in ("review", "provenance", "lease", "media", "meta"):
        del doc[newer]
    old = from_doc(Message, doc, id="x.1", session_id="x", seq=1)
    assert (old.review, old.provenance, old.lease, old.media) == (None, None, None, ())


@pytest.mark.parametrize(
    ("field", "value"),
    [("role", "robot"), ("status", "done"), ("mode", "psychic"), ("latency_ms", "fast")],
)
def test_values_outside_their_vocabulary_or_type_are_refused(field: str, value: str) -> None:
    with pytest.raises(RecordError, match=field):
        check(dataclasses.replace(full_message(), **{field: value}))


def test_a_look_alike_usage_is_copied_field_by_field() -> None:
    @dataclasses.dataclass(frozen=True)
    class ClientUsage:
        prompt_tokens: int
        completion_tokens: int
        total_tokens: int

    message = dataclasses.replace(full_message(), usage=ClientUsage(1, 2, 3))  # type: ignore[arg-type]
    assert check(message).usage == Usage(1, 2, 3)
