"""The assistant core: every question, from any command, goes through here.

It stores the question before any network call, grounds it in the knowledge base, asks the
chat endpoint (streaming), records the answer with its usage and latency, and falls back to
an offline answer from the knowledge when the endpoint cannot be reached. It returns data;
it never prints.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from omar_cli.errors import (
    ApiError,
    AuthError,
    IncompleteAnswerError,
    InputError,
    NoApiKeyError,
    OmarError,
)
from omar_cli.knowledge.lang import detect_lang
from omar_cli.knowledge.offline import compose_offline_answer, provenance
from omar_cli.prompt import PROMPT_VERSION, build_grounding, build_messages
from omar_cli.settings import Settings

if TYPE_CHECKING:
    from omar_cli.knowledge.index import Hit, KnowledgeIndex
    from omar_cli.llm.openai_client import OpenAIChat
    from omar_cli.store import Message, Session, SessionStore

#: how many earlier messages of the session are sent along as conversation history
HISTORY_MESSAGES = 12
#: how many knowledge hits are considered before the character budget trims them
RETRIEVE_LIMIT = 8
#: how many entries an offline answer shows (the best in full, the others as pointers)
OFFLINE_ENTRIES = 3

_CITATION = re.compile(r"\[([A-Za-z0-9][A-Za-z0-9._-]*)\]")


@dataclass(frozen=True)
class SourceRef:
    id: str
    kind: str
    title: str
    confidence: str
    source: str
    cited: bool


@dataclass(frozen=True)
class AskResult:
    session_id: str
    question_id: str
    message_id: str
    answer: str
    sources: tuple[SourceRef, ...]
    mode: str  # "online" or "offline"
    status: str  # "answered", "offline" or "incomplete"
    lang: str
    model: str | None = None
    usage: dict[str, int] | None = None
    latency_ms: int | None = None
    prompt_version: str | None = None
    new_session: bool = False
    queued: bool = False  # the question waits for `omar sync`
    error: OmarError | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "error"}
        data["sources"] = [s.__dict__ for s in self.sources]
        data["error"] = _error_dict(self.error)
        return data


@dataclass(frozen=True)
class SyncItem:
    question_id: str
    session_id: str
    status: str  # "answered", "failed" or "pending"
    message_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class SyncReport:
    items: tuple[SyncItem, ...]
    remaining: int
    error: OmarError | None = field(default=None, compare=False)

    @property
    def answered(self) -> int:
        return sum(1 for i in self.items if i.status == "answered")

    @property
    def failed(self) -> int:
        return sum(1 for i in self.items if i.status == "failed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "answered": self.answered,
            "failed": self.failed,
            "remaining": self.remaining,
            "items": [i.__dict__ for i in self.items],
            "error": _error_dict(self.error),
        }


def _error_dict(error: OmarError | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {"code": int(error.code), "type": error.code.name.lower(), "message": error.message}


@dataclass
class Assistant:
    store: SessionStore
    knowledge: Callable[[], KnowledgeIndex]
    chat: Callable[[], OpenAIChat | None]
    settings: Settings
    clock: Callable[[], datetime]

    def ask(
        self,
        question: str,
        *,
        session_id: str | None = None,
        new_session: bool = False,
        offline: bool = False,
        queue: bool = False,
        on_delta: Callable[[str], None] | None = None,
    ) -> AskResult:
        """Answer one question, online when possible, from the knowledge otherwise."""
        question = question.strip()
        if not question:
            raise InputError("the question is empty", hint='example: omar ask "¿qué es F0002?"')
        session, created = self._pick_session(session_id, new_session)
        history = self._history(session.id, before_seq=None)
        asked = self.store.add_message(session.id, "user", question, status="pending")
        lang = detect_lang(question)
        hits = self.knowledge().search(question, lang=lang, limit=RETRIEVE_LIMIT)
        chat = None if offline else self.chat()
        if chat is None:
            result = self._answer_offline(asked, hits, lang, keep_pending=queue)
        else:
            result = self._answer_online_or_fallback(chat, asked, hits, lang, history, on_delta)
        return replace(result, new_session=created)

    def sync(self, on_progress: Callable[[int, int], None] | None = None) -> SyncReport:
        """Send every pending question, oldest first; stop at the first network failure."""
        chat = self.chat()
        if chat is None:
            raise NoApiKeyError(
                "no API key configured, so pending questions cannot be sent",
                hint="set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server), then omar sync",
            )
        pending = self.store.pending()
        items: list[SyncItem] = []
        for done, asked in enumerate(pending):
            if on_progress:
                on_progress(done, len(pending))
            try:
                item = self._sync_one(chat, asked)
            except ApiError as exc:
                if not exc.retryable and not isinstance(exc, AuthError):
                    self.store.update_message(asked.id, status="failed", error=exc.message)
                    items.append(SyncItem(asked.id, asked.session_id, "failed", error=exc.message))
                    continue
                return SyncReport(tuple(items), remaining=len(pending) - done, error=exc)
            items.append(item)
        if on_progress:
            on_progress(len(pending), len(pending))
        return SyncReport(tuple(items), remaining=0)

    # -- internals ---------------------------------------------------------------------

    def _pick_session(self, session_id: str | None, new_session: bool) -> tuple[Session, bool]:
        if session_id:
            return self.store.get_session(session_id), False
        if not new_session:
            idle = timedelta(minutes=self.settings.session_idle_minutes)
            recent = self.store.recent_session(idle)
            if recent is not None:
                return recent, False
        return self.store.create_session(), True

    def _history(self, session_id: str, before_seq: int | None) -> list[tuple[str, str]]:
        """Earlier turns worth sending: questions and the answers they got."""
        turns: list[tuple[str, str]] = []
        for message in self.store.messages(session_id):
            if before_seq is not None and message.seq >= before_seq:
                break
            if message.role == "assistant" and message.status in ("answered", "offline"):
                turns.append(("assistant", message.text))
            elif message.role == "user" and message.status != "failed":
                turns.append(("user", message.text))
        return turns[-HISTORY_MESSAGES:]

    def _answer_offline(
        self, asked: Message, hits: Sequence[Hit], lang: str, *, keep_pending: bool
    ) -> AskResult:
        shown = list(hits[:OFFLINE_ENTRIES])
        text = compose_offline_answer(shown, lang, see_also=OFFLINE_ENTRIES - 1)
        sources = tuple(_source_ref(h, lang, cited=True) for h in shown)
        answer = self.store.add_message(
            asked.session_id,
            "assistant",
            text,
            status="offline",
            mode="offline",
            sources=tuple(s.id for s in sources),
            reply_to=asked.id,
        )
        if not keep_pending:
            self.store.update_message(asked.id, status="offline")
        return AskResult(
            session_id=asked.session_id,
            question_id=asked.id,
            message_id=answer.id,
            answer=text,
            sources=sources,
            mode="offline",
            status="offline",
            lang=lang,
            queued=keep_pending,
        )

    def _answer_online_or_fallback(
        self,
        chat: OpenAIChat,
        asked: Message,
        hits: Sequence[Hit],
        lang: str,
        history: Sequence[tuple[str, str]],
        on_delta: Callable[[str], None] | None,
    ) -> AskResult:
        try:
            return self._answer_online(chat, asked, hits, lang, history, on_delta)
        except IncompleteAnswerError as exc:
            return self._keep_partial(asked, hits, lang, exc)
        except ApiError as exc:
            # A rejected request as such (bad model, too long) would fail again unchanged.
            keep = exc.retryable or isinstance(exc, AuthError)
            self.store.update_message(
                asked.id, status="pending" if keep else "failed", error=exc.message
            )
            fallback = self._answer_offline(asked, hits, lang, keep_pending=keep)
            return replace(fallback, error=exc)

    def _answer_online(
        self,
        chat: OpenAIChat,
        asked: Message,
        hits: Sequence[Hit],
        lang: str,
        history: Sequence[tuple[str, str]],
        on_delta: Callable[[str], None] | None,
    ) -> AskResult:
        grounding = build_grounding(hits, self.settings.context_chars, lang)
        messages = build_messages(asked.text, grounding, history)
        result = chat.stream_chat(messages, model=self.settings.model, on_delta=on_delta)
        cited = set(_CITATION.findall(result.text))
        sources = tuple(_source_ref(h, lang, cited=h.id in cited) for h in grounding.hits)
        usage = _usage_dict(result.usage)
        answer = self.store.add_message(
            asked.session_id,
            "assistant",
            result.text,
            status="answered",
            mode="online",
            model=result.model,
            usage=_store_usage(usage),
            latency_ms=result.latency_ms,
            sources=tuple(s.id for s in sources),
            reply_to=asked.id,
            meta={"prompt_version": PROMPT_VERSION, "finish_reason": result.finish_reason},
        )
        self.store.update_message(asked.id, status="answered", error=None)
        return AskResult(
            session_id=asked.session_id,
            question_id=asked.id,
            message_id=answer.id,
            answer=result.text,
            sources=sources,
            mode="online",
            status="answered",
            lang=lang,
            model=result.model,
            usage=usage,
            latency_ms=result.latency_ms,
            prompt_version=PROMPT_VERSION,
        )

    def _keep_partial(
        self, asked: Message, hits: Sequence[Hit], lang: str, exc: IncompleteAnswerError
    ) -> AskResult:
        grounding = build_grounding(hits, self.settings.context_chars, lang)
        sources = tuple(_source_ref(h, lang, cited=False) for h in grounding.hits)
        answer = self.store.add_message(
            asked.session_id,
            "assistant",
            exc.partial,
            status="incomplete",
            mode="online",
            model=self.settings.model,
            sources=tuple(s.id for s in sources),
            reply_to=asked.id,
            error=exc.message,
            meta={"prompt_version": PROMPT_VERSION},
        )
        # The question stays pending so `omar sync` can get a complete answer later.
        self.store.update_message(asked.id, status="pending", error=exc.message)
        return AskResult(
            session_id=asked.session_id,
            question_id=asked.id,
            message_id=answer.id,
            answer=exc.partial,
            sources=sources,
            mode="online",
            status="incomplete",
            lang=lang,
            model=self.settings.model,
            prompt_version=PROMPT_VERSION,
            queued=True,
            error=exc,
        )

    def _sync_one(self, chat: OpenAIChat, asked: Message) -> SyncItem:
        lang = detect_lang(asked.text)
        hits = self.knowledge().search(asked.text, lang=lang, limit=RETRIEVE_LIMIT)
        history = self._history(asked.session_id, before_seq=asked.seq)
        try:
            result = self._answer_online(chat, asked, hits, lang, history, on_delta=None)
        except IncompleteAnswerError as exc:
            self._keep_partial(asked, hits, lang, exc)
            raise
        return SyncItem(asked.id, asked.session_id, "answered", message_id=result.message_id)


def _source_ref(hit: Hit, lang: str, *, cited: bool) -> SourceRef:
    entry = hit.entry
    return SourceRef(
        id=entry.id,
        kind=entry.kind,
        title=entry.text_in(lang).title,
        confidence=entry.confidence,
        source=provenance(entry, lang),
        cited=cited,
    )


def _usage_dict(usage: Any) -> dict[str, int] | None:
    if usage is None:
        return None
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _store_usage(usage: dict[str, int] | None) -> Any:
    if usage is None:
        return None
    from omar_cli.store import Usage

    return Usage(**usage)
