"""An in-memory ``ChatModel`` that plays back a script, for tests of anything built on the core.

Queue what the next calls do, in order: an answer (``enqueue``), a failure (``enqueue_error``),
a stream cut after some text (``enqueue_cut``). Every call is recorded in ``requests`` with the
messages and the model it was given, so a test can check exactly what a model would have seen.
A call with nothing queued is a bug in the test and raises ``LookupError`` (not an
``ApiError``, which the assistant would quietly answer offline).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omar_cli.errors import IncompleteAnswerError
from omar_cli.llm.model import AudioClip, ChatMessage, ChatModel, ChatResult, Transcript, Usage


@dataclass(frozen=True)
class ChatRequest:
    messages: tuple[ChatMessage, ...]
    model: str
    temperature: float | None = None
    max_tokens: int | None = None
    json_object: bool = False

    @property
    def last_text(self) -> str:
        """The text of the last message: the question with its grounding."""
        return self.messages[-1].text


@dataclass(frozen=True)
class TranscribeRequest:
    audio: AudioClip
    model: str
    language: str | None
    prompt: str | None


@dataclass(frozen=True)
class _Step:
    pieces: tuple[str, ...]
    error: BaseException | None = None
    finish_reason: str = "stop"
    usage: Usage | None = None
    model: str | None = None
    wait: float = 0.0


class ScriptedModel:
    """Plays queued answers and failures; implements ``omar_cli.llm.model.ChatModel``."""

    def __init__(self, *, latency_ms: int = 1, host: str = "scripted") -> None:
        self.latency_ms = latency_ms
        self.host = host
        self.requests: list[ChatRequest] = []
        self.transcriptions: list[TranscribeRequest] = []
        self.pings = 0
        self._steps: deque[_Step] = deque()
        self._transcripts: deque[str | BaseException] = deque()
        self._ping_errors: deque[BaseException] = deque()

    # -- the script ----------------------------------------------------------------------

    def enqueue(
        self,
        text: str | Sequence[str],
        *,
        usage: Usage | None = None,
        finish_reason: str = "stop",
        model: str | None = None,
        wait: float = 0.0,
    ) -> None:
        """An answer, streamed as the given pieces (a string is one piece) after ``wait``
        seconds (a slow model still reading the prompt)."""
        pieces = (text,) if isinstance(text, str) else tuple(text)
        self._steps.append(_Step(pieces, None, finish_reason, usage, model, wait))

    def enqueue_error(self, error: BaseException, *, after: str | Sequence[str] = ()) -> None:
        """A failure raised after streaming ``after`` (e.g. ``KeyboardInterrupt`` mid-answer)."""
        pieces = (after,) if isinstance(after, str) else tuple(after)
        self._steps.append(_Step(pieces, error))

    def enqueue_cut(self, partial: str | Sequence[str], message: str = "cut off") -> None:
        """A stream that stops before its finish reason, as the adapter reports one."""
        pieces = (partial,) if isinstance(partial, str) else tuple(partial)
        error = IncompleteAnswerError(
            f"the answer was {message}", partial="".join(pieces), hint="ask again"
        )
        self._steps.append(_Step(pieces, error))

    def enqueue_transcript(self, text: str) -> None:
        self._transcripts.append(text)

    def enqueue_transcribe_error(self, error: BaseException) -> None:
        self._transcripts.append(error)

    def enqueue_ping_error(self, error: BaseException) -> None:
        self._ping_errors.append(error)

    @property
    def pending(self) -> int:
        """Queued chat steps not yet played."""
        return len(self._steps)

    @property
    def last_request(self) -> ChatRequest:
        if not self.requests:
            raise LookupError("ScriptedModel: no chat request was made")
        return self.requests[-1]

    # -- ChatModel -----------------------------------------------------------------------

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str,
        on_delta: Callable[[str], None] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        json_object: bool = False,
    ) -> ChatResult:
        self.requests.append(
            ChatRequest(tuple(messages), model, temperature, max_tokens, json_object)
        )
        if not self._steps:
            raise LookupError("ScriptedModel: a chat request arrived with nothing queued")
        step = self._steps.popleft()
        if step.wait:
            time.sleep(step.wait)
        for piece in step.pieces:
            if piece and on_delta is not None:
                on_delta(piece)
        if step.error is not None:
            raise step.error
        text = "".join(step.pieces)
        usage = step.usage or _word_usage(messages, text)
        return ChatResult(
            text, step.model or model, step.finish_reason, usage, self.latency_ms, self.latency_ms
        )

    def transcribe(
        self,
        audio: AudioClip,
        *,
        model: str,
        language: str | None = None,
        prompt: str | None = None,
    ) -> Transcript:
        self.transcriptions.append(TranscribeRequest(audio, model, language, prompt))
        if not self._transcripts:
            raise LookupError("ScriptedModel: a transcription arrived with nothing queued")
        step = self._transcripts.popleft()
        if isinstance(step, BaseException):
            raise step
        return Transcript(step, model, language, self.latency_ms)

    def ping(self) -> float:
        self.pings += 1
        if self._ping_errors:
            raise self._ping_errors.popleft()
        return float(self.latency_ms)


def _word_usage(messages: Sequence[ChatMessage], text: str) -> Usage:
    """A stand-in token count (words), so usage flows through like a real answer's."""
    prompt = sum(len(m.text.split()) for m in messages)
    completion = len(text.split())
    return Usage(prompt, completion, prompt + completion)


if TYPE_CHECKING:  # mypy proves the script fits the interface the assistant depends on

    def _fits(model: ScriptedModel) -> ChatModel:
        return model
