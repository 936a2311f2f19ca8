"""What an answer keeps of what produced it, and the store-side rules the core wires in:
offline questions never sent by sync, a key echoed by an answer stored masked, follow-ups
that carry the newest earlier photo. Against the scripted model: no HTTP."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import FAKE_KEY
from scripted_support import ScriptedCli, as_json, scripted_services

from omar_cli.llm.model import ImagePart
from omar_cli.llm.scripted import ScriptedModel
from omar_cli.prompt import DEFAULT_MAX_TOKENS, PROMPT_VERSION, request_sha256
from omar_cli.provenance import rebuild_request
from omar_cli.services import Services
from omar_cli.store import Usage

JPEG = b"\xff\xd8\xff\xe0" + b"photo-of-the-display"


@pytest.fixture
def model(knowledge_cache: Path, monkeypatch: pytest.MonkeyPatch) -> ScriptedModel:
    monkeypatch.setenv("OMAR_CACHE_DIR", str(knowledge_cache))
    return ScriptedModel(latency_ms=42, host="llm.example:8443")


@pytest.fixture
def svc(model: ScriptedModel) -> Services:
    return scripted_services(model)


def test_an_answer_keeps_what_produced_it(svc: Services, model: ScriptedModel) -> None:
    own = "Mida el aislamiento del motor [F0016]."
    model.enqueue(own, usage=Usage(900, 12, 912), finish_reason="stop")
    result = svc.assistant.ask("Voy a medir el aislamiento por falla a tierra F0016")
    answer = svc.store.get_message(result.message_id)
    prov = answer.provenance
    assert prov is not None and prov.grounding is not None
    assert prov.model_text == own and result.safety_note is not None
    assert prov.safety_note == result.safety_note and answer.text != own
    sent = model.last_request.last_text
    assert prov.grounding.text is not None and sent.startswith(prov.grounding.text)
    assert prov.grounding.sha256 == hashlib.sha256(prov.grounding.text.encode()).hexdigest()
    assert prov.grounding.entry_ids[0] == "F0016"
    assert all(f"[{i}]" in prov.grounding.text for i in prov.grounding.entry_ids)
    assert (prov.prompt_version, prov.endpoint_host) == (PROMPT_VERSION, "llm.example:8443")
    assert prov.finish_reason == "stop"
    assert prov.request["model"] == svc.settings.model
    assert (prov.request["temperature"], prov.request["max_tokens"]) == (None, DEFAULT_MAX_TOKENS)
    assert answer.usage == Usage(900, 12, 912) and answer.latency_ms == 42
    assert not {"prompt_version", "finish_reason", "safety_appended"} & set(answer.meta)


def test_the_request_is_rebuilt_exactly_from_the_store(svc: Services, model: ScriptedModel) -> None:
    model.enqueue("Veo F0002 [F0002].")
    model.enqueue("Alargue la rampa [2203].")
    model.enqueue("Revise la resistencia de frenado [F0002].")
    svc.assistant.ask("¿qué muestra?", images=[ImagePart.from_bytes(JPEG)])
    svc.assistant.ask("¿y si persiste F0099?")  # unknown code: its block is part of it
    last = svc.assistant.ask("¿y la resistencia?")
    answer = svc.store.get_message(last.message_id)
    rebuilt = rebuild_request(svc.store, answer)
    assert rebuilt == list(model.last_request.messages)
    assert answer.provenance is not None
    assert request_sha256(rebuilt) == answer.provenance.request["sha256"]
    assert answer.provenance.request["history_media"] == [
        svc.store.messages(last.session_id)[0].media[0]
    ]


def test_a_cut_answer_keeps_its_request_and_model_text(svc: Services, model: ScriptedModel) -> None:
    model.enqueue_cut(["Primero aísle ", "la alimentación"])
    result = svc.assistant.ask("F0004 cortocircuito")
    answer = svc.store.get_message(result.message_id)
    assert answer.status == "incomplete" and answer.provenance is not None
    assert answer.provenance.model_text == "Primero aísle la alimentación"
    assert answer.provenance.finish_reason is None and answer.latency_ms is not None
    assert request_sha256(rebuild_request(svc.store, answer)) == answer.provenance.request["sha256"]


def test_an_offline_answer_says_no_model_and_which_entries(svc: Services) -> None:
    result = svc.assistant.ask("F0001", offline=True)
    prov = svc.store.get_message(result.message_id).provenance
    assert prov is not None and prov.grounding is not None
    assert prov.prompt_version is None and prov.model_text is None
    assert prov.grounding.entry_ids == tuple(s.id for s in result.sources) != ()


def test_sessions_json_shows_provenance_review_and_media(
    model: ScriptedModel, svc: Services
) -> None:
    model.enqueue("Veo F0002 [F0002].")
    result = svc.assistant.ask("¿qué muestra?", images=[ImagePart.from_bytes(JPEG)])
    doc = as_json(ScriptedCli(model)("sessions", result.session_id, "--json"))
    question, answer = doc["messages"]
    assert len(question["media"]) == 1 and answer["review"]["state"] == "pending"
    prov = answer["provenance"]
    assert prov["model_text"] == "Veo F0002 [F0002]." and prov["grounding"]["text"]
    assert prov["request"]["model"] == svc.settings.vision_model


# --------------------------------------------------------------------------- offline mode


@pytest.mark.parametrize("offline", [True, False], ids=["--offline", "no-key"])
def test_a_kill_during_an_offline_answer_never_leads_to_an_online_send(
    knowledge_cache: Path, monkeypatch: pytest.MonkeyPatch, offline: bool
) -> None:
    monkeypatch.setenv("OMAR_CACHE_DIR", str(knowledge_cache))
    svc = Services(scripted_services(ScriptedModel()).settings)  # no key: chat() is None
    if offline:
        svc.chat_override = ScriptedModel()

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # stands in for a kill after the question was stored

    monkeypatch.setattr(svc.assistant, "_answer_offline", killed)
    with pytest.raises(KeyboardInterrupt):
        svc.assistant.ask("F0001 al arrancar", offline=offline)
    (question,) = svc.store.messages(svc.store.list_sessions()[0].id)
    assert (question.status, question.mode) == ("pending", "offline")
    assert svc.store.pending() == []


def test_a_queued_offline_question_is_still_for_sync(svc: Services) -> None:
    result = svc.assistant.ask("F0001", offline=True, queue=True)
    assert [q.id for q in svc.store.pending()] == [result.question_id]


# --------------------------------------------------------------------------- the key


def test_an_answer_that_echoes_the_key_is_stored_masked(
    knowledge_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMAR_CACHE_DIR", str(knowledge_cache))
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    model = ScriptedModel()
    svc = scripted_services(model)
    model.enqueue(f"Su clave es {FAKE_KEY} [F0001].")
    result = svc.assistant.ask("F0001 y mi clave")
    answer = svc.store.get_message(result.message_id)
    assert FAKE_KEY not in answer.text and "Su clave es sk-" in answer.text
    assert answer.provenance is not None and FAKE_KEY not in str(answer.provenance.model_text)
    for path in svc.store.root.rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), path


# --------------------------------------------------------------------------- photos in history

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def test_sync_sends_a_queued_follow_up_with_the_earlier_photo(
    svc: Services, model: ScriptedModel
) -> None:
    model.enqueue("Veo F0002 en la pantalla [F0002].")
    svc.assistant.ask("¿qué muestra?", images=[ImagePart.from_bytes(JPEG)])
    svc.assistant.ask("¿y cómo lo arreglo?", offline=True, queue=True)
    model.enqueue("Alargue la rampa [2203].")
    assert svc.assistant.sync().answered == 1
    request = model.last_request
    assert request.model == svc.settings.vision_model
    assert [i.data for m in request.messages for i in m.images] == [JPEG]
    assert request.messages[-1].text.endswith("QUESTION: ¿y cómo lo arreglo?")


def test_only_the_newest_earlier_photo_is_read(svc: Services, model: ScriptedModel) -> None:
    model.enqueue("Veo la pantalla.")
    model.enqueue("Veo la placa.")
    first = svc.assistant.ask("pantalla", images=[ImagePart.from_bytes(JPEG)])
    svc.assistant.ask("placa", images=[ImagePart.from_bytes(PNG)])
    (old,) = svc.store.get_message(first.question_id).media
    svc.store.media_path(old).unlink()  # an older photo is never read again: not needed
    model.enqueue("Alargue la rampa [2203].")
    svc.assistant.ask("¿y ahora?")
    assert [i.data for m in model.last_request.messages for i in m.images] == [PNG]
