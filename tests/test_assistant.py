"""The assistant core against the scripted model: what is sent, stored and answered, whatever
the endpoint does. No HTTP: the adapter has its own tests (test_openai_client.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from scripted_support import scripted_services

from omar_cli.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    ExitCode,
    InputError,
    NetworkError,
    RateLimitError,
    ServerError,
    TimeoutError_,
)
from omar_cli.llm.model import ChatMessage, ChatResult, ImagePart, TextPart
from omar_cli.llm.scripted import ScriptedModel
from omar_cli.prompt import EARLIER_PHOTO, PHOTO_ONLY_QUESTION, SYSTEM_PROMPT
from omar_cli.results import Problem
from omar_cli.services import Services

#: the smallest valid PNG header and a JPEG start: enough for the type to be read
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
JPEG = b"\xff\xd8\xff\xe0" + b"photo-of-the-display"


@pytest.fixture
def svc(model: ScriptedModel) -> Services:
    return scripted_services(model)


def texts(messages: Sequence[ChatMessage]) -> list[str]:
    return [m.text for m in messages]


# --------------------------------------------------------------------------- storing


def test_question_is_stored_before_the_call(svc: Services, model: ScriptedModel) -> None:
    stored: list[str] = []

    class Peeking(ScriptedModel):
        def stream_chat(self, messages: Sequence[ChatMessage], **kw: object) -> ChatResult:
            stored.extend(m.text for m in svc.store.pending())
            return super().stream_chat(messages, **kw)  # type: ignore[arg-type]

    peeking = Peeking()
    svc.chat_override = peeking
    peeking.enqueue("Vea [F0001].")
    result = svc.assistant.ask("F0001 al arrancar")
    assert stored == ["F0001 al arrancar"]
    assert result.status == "answered" and result.usage is not None
    assert [s.id for s in result.sources if s.cited] == ["F0001"]


def test_the_request_has_the_system_prompt_grounding_and_the_chat_model(
    svc: Services, model: ScriptedModel
) -> None:
    model.enqueue(["Sobretensión ", "[F0002]."])
    deltas: list[str] = []
    result = svc.assistant.ask("El variador muestra F0002 al frenar", on_delta=deltas.append)
    assert deltas == ["Sobretensión ", "[F0002]."]
    request = model.last_request
    assert request.model == svc.settings.model
    system, user = request.messages
    assert (system.role, system.text) == ("system", SYSTEM_PROMPT)
    assert user.parts == (TextPart(user.text),)  # text only: one text part
    assert user.text.startswith("KNOWLEDGE") and "[F0002]" in user.text
    assert user.text.endswith("QUESTION: El variador muestra F0002 al frenar")
    answer = svc.store.get_message(result.message_id)
    assert answer.usage is not None and answer.usage.total_tokens == sum(
        (answer.usage.prompt_tokens, answer.usage.completion_tokens)
    )
    assert answer.provenance is not None
    assert answer.provenance.prompt_version == result.prompt_version
    assert "prompt_version" not in answer.meta


def test_ctrl_c_mid_answer_keeps_the_partial_text(svc: Services, model: ScriptedModel) -> None:
    model.enqueue_error(KeyboardInterrupt(), after=["Primero aísle ", "y espere"])
    with pytest.raises(KeyboardInterrupt):
        svc.assistant.ask("F0004 cortocircuito")
    session = svc.store.list_sessions()[0]
    question, answer = svc.store.messages(session.id)
    assert (question.status, answer.status) == ("pending", "incomplete")
    assert answer.text.startswith("Primero aísle y espere")
    assert answer.reply_to == question.id


def test_an_answer_cut_at_its_length_bound_says_so_and_keeps_the_safety_rule(
    svc: Services, model: ScriptedModel
) -> None:
    model.enqueue("F0004 es un cortocircuito. Revise el cable del motor y", finish_reason="length")
    result = svc.assistant.ask("F0004 cortocircuito")
    assert result.status == "answered" and result.error is None
    assert result.length_note and result.length_note in result.answer
    assert "límite de longitud" in result.length_note
    assert result.safety_note is not None and "5 min" in result.answer
    stored = svc.store.get_message(result.message_id or "")
    assert stored.provenance is not None and stored.provenance.finish_reason == "length"


def test_an_empty_question_is_refused(svc: Services) -> None:
    with pytest.raises(InputError, match="vacía"):
        svc.assistant.ask("  \n")


# --------------------------------------------------------------------------- falling back


@pytest.mark.parametrize(
    "error",
    [
        AuthError("API key rejected"),
        RateLimitError("rate limit"),
        ServerError("HTTP 503"),
        TimeoutError_("no answer within 1 s"),
        NetworkError("cannot reach 127.0.0.1"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_failure_that_may_pass_answers_offline_and_keeps_the_question(
    svc: Services, model: ScriptedModel, error: ApiError
) -> None:
    model.enqueue_error(error)
    result = svc.assistant.ask("Se dispara por sobrecorriente al arrancar")
    assert (result.mode, result.queued, result.error) == ("offline", True, Problem.of(error))
    assert result.answer and result.sources
    assert [m.text for m in svc.store.pending()] == ["Se dispara por sobrecorriente al arrancar"]
    question = svc.store.get_message(result.question_id)
    assert question.error == error.message


def test_a_rejected_request_answers_offline_and_fails_the_question(
    svc: Services, model: ScriptedModel
) -> None:
    model.enqueue_error(BadRequestError("model 'x' not found"))
    result = svc.assistant.ask("hola")
    assert (result.mode, result.queued) == ("offline", False)
    assert result.error is not None and result.error.type == "bad_request"
    assert result.error.code == ExitCode.BAD_REQUEST and "'x'" in result.error.message
    assert svc.store.pending() == []
    assert svc.store.get_message(result.question_id).status == "failed"


@pytest.mark.parametrize(
    "script",
    [lambda m: m.enqueue(""), lambda m: m.enqueue(" \n"), lambda m: m.enqueue_cut("")],
    ids=["empty", "blank", "empty-cut"],
)
def test_an_empty_answer_is_a_server_failure(
    svc: Services, model: ScriptedModel, script: Callable[[ScriptedModel], None]
) -> None:
    script(model)
    result = svc.assistant.ask("Cortocircuito en el cable del motor")
    assert result.error is not None and result.error.kind == "ServerError"
    assert result.mode == "offline" and result.queued and "[F0004]" in result.answer


def test_offline_with_queue_keeps_the_question_for_sync(
    svc: Services, model: ScriptedModel
) -> None:
    result = svc.assistant.ask("F0002 al frenar", offline=True, queue=True)
    assert result.mode == "offline" and result.queued and model.requests == []
    assert [m.text for m in svc.store.pending()] == ["F0002 al frenar"]
    model.enqueue("Vea [F0002].")
    report = svc.assistant.sync()
    assert (report.answered, report.remaining) == (1, 0)
    question, offline_answer, online_answer = svc.store.messages(result.session_id)
    assert question.status == "answered"
    assert (offline_answer.mode, online_answer.mode) == ("offline", "online")
    # history stops before the pending question, so it is sent once, as the question
    assert sum("F0002 al frenar" in text for text in texts(model.last_request.messages)) == 1


def test_a_cut_answer_keeps_the_partial_and_adds_the_offline_answer(
    svc: Services, model: ScriptedModel
) -> None:
    model.enqueue_cut(["Primero ", "aísle "])
    result = svc.assistant.ask("F0004 cortocircuito")
    assert (result.status, result.answer, result.queued) == ("incomplete", "Primero aísle ", True)
    assert result.offline_answer is not None and "[F0004]" in result.offline_answer
    assert result.safety_note is None  # the offline answer that follows carries it
    question, partial, offline = svc.store.messages(result.session_id)
    assert (question.status, partial.status, offline.status) == ("pending", "incomplete", "offline")
    assert offline.text == result.offline_answer and offline.reply_to == question.id
    model.enqueue("Vea [F0004].")  # the network is back
    assert svc.assistant.sync().answered == 1 and svc.store.pending() == []


# --------------------------------------------------------------------------- sessions, follow-ups


def test_a_follow_up_carries_the_turn_before_and_its_topic(
    svc: Services, model: ScriptedModel
) -> None:
    model.enqueue("Alargue la deceleración [2203].")
    model.enqueue("Revise la resistencia de frenado.")
    first = svc.assistant.ask("F0002 al frenar")
    second = svc.assistant.ask("¿y si persiste?")
    assert second.session_id == first.session_id
    *_, earlier_q, earlier_a, question = model.last_request.messages
    assert (earlier_q.role, earlier_q.text) == ("user", "F0002 al frenar")
    assert earlier_a.role == "assistant" and earlier_a.text.startswith("Alargue")
    assert "[F0002]" in question.text and question.text.endswith("QUESTION: ¿y si persiste?")


def test_a_new_session_starts_without_history(svc: Services, model: ScriptedModel) -> None:
    model.enqueue("Uno.")
    model.enqueue("Dos.")
    first = svc.assistant.ask("F0001 al arrancar")
    second = svc.assistant.ask("Otra cosa", new_session=True)
    assert second.session_id != first.session_id and second.new_session
    assert [m.role for m in model.last_request.messages] == ["system", "user"]


# --------------------------------------------------------------------------- safety, citations


def test_safety_rule_is_appended_when_the_model_leaves_it_out(
    svc: Services, model: ScriptedModel
) -> None:
    model.enqueue("Mida el aislamiento del motor [F0016]. También vea [F0042].")
    result = svc.assistant.ask("Voy a medir el aislamiento por falla a tierra F0016")
    assert result.safety_note and "5 min" in result.safety_note
    assert result.answer.endswith(result.safety_note)
    assert result.unknown_citations == ("F0042",)
    stored = svc.store.get_message(result.message_id)
    assert stored.text == result.answer and stored.provenance is not None
    assert stored.provenance.safety_note == result.safety_note
    assert stored.provenance.model_text == (
        "Mida el aislamiento del motor [F0016]. También vea [F0042]."
    )


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Drive shows F0002 when braking", "Lengthen the decel ramp [2203] and check [f0002]."),
        ("F0006 al arrancar", "Apriete las conexiones de red [F0006]."),
        ("F0006 al arrancar", "Espere 5 min y revise la red [F0006]."),  # wait named, no lockout
    ],
)
def test_safety_comes_from_the_best_entry_and_the_general_rule(
    svc: Services, model: ScriptedModel, question: str, answer: str
) -> None:
    model.enqueue(answer)
    result = svc.assistant.ask(question, new_session=True)
    assert result.safety_note and "5 min" in result.safety_note


# --------------------------------------------------------------------------- photos


def test_a_photo_goes_as_an_image_part_to_the_vision_model(
    model: ScriptedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMAR_VISION_MODEL", "vision-test")
    svc = scripted_services(model)
    model.enqueue("La pantalla muestra F0002 [F0002].")
    photo = ImagePart.from_bytes(JPEG, detail="low")
    result = svc.assistant.ask("¿Qué indica la pantalla? F0002", images=[photo])
    request = model.last_request
    assert request.model == "vision-test" and result.model == "vision-test"
    question = request.messages[-1]
    assert question.images == (photo,)
    assert isinstance(question.parts[0], TextPart) and "[F0002]" in question.text
    stored = svc.store.get_message(result.question_id)
    assert len(stored.media) == 1
    assert svc.store.media_path(stored.media[0]).read_bytes() == JPEG
    model.enqueue("Vea [F0002].")
    svc.assistant.ask("F0002 otra vez", new_session=True)  # no photo, no earlier one
    assert model.last_request.model == svc.settings.model != "vision-test"


def test_a_photo_alone_is_a_question(svc: Services, model: ScriptedModel) -> None:
    model.enqueue("Veo la placa del motor.")
    result = svc.assistant.ask("", images=[ImagePart.from_bytes(PNG)])
    assert result.status == "answered"
    question = model.last_request.messages[-1]
    assert question.text.endswith(f"QUESTION: {PHOTO_ONLY_QUESTION}")
    assert question.images[0].mime == "image/png"


def test_a_queued_photo_question_is_synced_with_its_photo(
    svc: Services, model: ScriptedModel
) -> None:
    model.enqueue_error(NetworkError("cannot reach the endpoint"))
    asked = svc.assistant.ask("¿Qué falla es?", images=[ImagePart.from_bytes(JPEG)])
    assert asked.queued
    model.enqueue("F0002 [F0002].")
    assert svc.assistant.sync().answered == 1
    request = model.last_request
    assert request.model == svc.settings.vision_model
    assert [i.data for i in request.messages[-1].images] == [JPEG]


def test_what_is_not_an_image_is_refused(svc: Services) -> None:
    with pytest.raises(InputError, match="no es una imagen JPEG"):
        svc.assistant.ask("foto", images=[ImagePart.from_bytes(b"%PDF-1.7")])


# --------------------------------------------------------------------------- the script itself


def test_a_request_with_nothing_queued_is_a_test_bug_not_a_fallback(svc: Services) -> None:
    with pytest.raises(LookupError, match="nothing queued"):
        svc.assistant.ask("F0001")


def test_a_follow_up_sends_the_newest_earlier_photo_and_names_older_ones(
    svc: Services, model: ScriptedModel
) -> None:
    model.enqueue("Veo F0002 en la pantalla [F0002].")
    model.enqueue("Ahora veo la placa.")
    model.enqueue("Alargue la deceleración [2203].")
    svc.assistant.ask("", images=[ImagePart.from_bytes(JPEG)])
    svc.assistant.ask("¿y esta placa?", images=[ImagePart.from_bytes(PNG)])
    assert [i.data for i in model.last_request.messages[-1].images] == [PNG]  # its own only
    assert model.last_request.messages[1].images == ()
    svc.assistant.ask("¿y cómo lo arreglo?")
    _, older, _, newer, _, question = model.last_request.messages
    assert (older.role, older.text, older.images) == ("user", EARLIER_PHOTO, ())
    assert newer.text == "¿y esta placa?" and [i.data for i in newer.images] == [PNG]
    assert question.images == ()
    assert model.last_request.model == svc.settings.vision_model


def test_a_photo_alone_offline_is_kept_for_sync_with_a_plain_offline_answer(
    svc: Services, model: ScriptedModel
) -> None:
    result = svc.assistant.ask("", images=[ImagePart.from_bytes(PNG)], offline=True, queue=True)
    assert (result.mode, result.queued, model.requests) == ("offline", True, [])
    assert result.answer.strip()
    model.enqueue("Veo la placa del motor.")
    assert svc.assistant.sync().answered == 1
    assert model.last_request.messages[-1].images[0].data == PNG
