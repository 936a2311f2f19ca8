"""The assistant core with a stub chat client: what is stored when, whatever happens."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from omar_cli.llm.openai_client import ChatResult, ChatUsage
from omar_cli.services import Services
from omar_cli.settings import load_settings


class StubChat:
    """Streams scripted pieces; ``then`` is raised after them instead of finishing."""

    def __init__(self, pieces: list[str], then: BaseException | None = None) -> None:
        self.pieces, self.then = pieces, then
        self.seen: list[list[dict[str, Any]]] = []

    def stream_chat(
        self, messages: list[dict[str, Any]], *, model: str, on_delta: Callable[[str], None]
    ) -> ChatResult:
        self.seen.append(messages)
        for piece in self.pieces:
            on_delta(piece)
        if self.then is not None:
            raise self.then
        usage = ChatUsage(prompt_tokens=10, completion_tokens=2, total_tokens=12)
        return ChatResult("".join(self.pieces), model, "stop", usage, 42, 5)


def services(chat: StubChat) -> Services:
    return Services(load_settings(), chat_override=chat)  # type: ignore[arg-type]


def test_ctrl_c_mid_answer_keeps_the_partial_text(isolated_dirs: Path) -> None:
    svc = services(StubChat(["Primero aísle ", "y espere"], then=KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        svc.assistant.ask("F0004 cortocircuito")
    session = svc.store.list_sessions()[0]
    question, answer = svc.store.messages(session.id)
    assert (question.status, answer.status) == ("pending", "incomplete")
    assert answer.text.startswith("Primero aísle y espere")
    assert answer.reply_to == question.id


def test_question_is_stored_before_the_call(isolated_dirs: Path) -> None:
    stored: list[str] = []

    class Peeking(StubChat):
        def stream_chat(self, messages: list[dict[str, Any]], **kw: Any) -> ChatResult:
            stored.extend(m.text for m in svc.store.pending())
            return super().stream_chat(messages, **kw)

    svc = services(Peeking(["Vea [F0001]."]))
    result = svc.assistant.ask("F0001 al arrancar")
    assert stored == ["F0001 al arrancar"]
    assert result.status == "answered" and result.usage == {
        "prompt_tokens": 10,
        "completion_tokens": 2,
        "total_tokens": 12,
    }
    assert [s.id for s in result.sources if s.cited] == ["F0001"]


def test_offline_with_queue_keeps_the_question_for_sync(isolated_dirs: Path) -> None:
    svc = services(StubChat(["Vea [F0002]."]))
    result = svc.assistant.ask("F0002 al frenar", offline=True, queue=True)
    assert result.mode == "offline" and result.queued
    assert [m.text for m in svc.store.pending()] == ["F0002 al frenar"]
    report = svc.assistant.sync()
    assert (report.answered, report.remaining) == (1, 0)
    question, offline_answer, online_answer = svc.store.messages(result.session_id)
    assert question.status == "answered"
    assert (offline_answer.mode, online_answer.mode) == ("offline", "online")
    # history stops before the pending question, so it is sent once, as the question
    sent = svc.assistant.chat().seen[-1]  # type: ignore[union-attr]
    assert sum("F0002 al frenar" in m["content"] for m in sent) == 1


def test_a_cut_answer_keeps_the_partial_and_adds_the_offline_answer(isolated_dirs: Path) -> None:
    from omar_cli.errors import IncompleteAnswerError

    cut = IncompleteAnswerError("cut", partial="Primero aísle ")
    svc = services(StubChat(["Primero aísle "], then=cut))
    result = svc.assistant.ask("F0004 cortocircuito")
    assert (result.status, result.answer, result.queued) == ("incomplete", "Primero aísle ", True)
    assert result.offline_answer is not None and "[F0004]" in result.offline_answer
    assert result.safety_note is None  # the offline answer that follows carries it
    question, partial, offline = svc.store.messages(result.session_id)
    assert (question.status, partial.status, offline.status) == ("pending", "incomplete", "offline")
    assert offline.text == result.offline_answer and offline.reply_to == question.id
    chat = svc.assistant.chat()
    assert isinstance(chat, StubChat)
    chat.pieces, chat.then = ["Vea [F0004]."], None  # the network is back
    assert svc.assistant.sync().answered == 1 and svc.store.pending() == []
