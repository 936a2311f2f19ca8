"""The assistant core: every question, from any command, goes through here.

It stores the question before any network call, grounds it in the knowledge base, asks the
chat endpoint (streaming), records the answer with its usage and latency, and falls back to
an offline answer from the knowledge when the endpoint cannot be reached. It returns data;
it never prints.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from omar_cli.errors import (
    ApiError,
    AuthError,
    IncompleteAnswerError,
    InputError,
    NoApiKeyError,
    OmarError,
    ServerError,
)
from omar_cli.knowledge.offline import compose_offline_answer, missing_safety, provenance
from omar_cli.prompt import PROMPT_VERSION, build_grounding, build_messages
from omar_cli.settings import Settings
from omar_cli.text import clean_text

if TYPE_CHECKING:
    from omar_cli.knowledge.index import Hit, KnowledgeIndex
    from omar_cli.llm.openai_client import ChatResult, OpenAIChat
    from omar_cli.store import Message, Session, SessionStore

#: a question longer than this is a pasted document, not a question
MAX_QUESTION_CHARS = 8000
#: how many earlier messages of the session are sent along as conversation history
HISTORY_MESSAGES = 12
#: how many knowledge hits are considered before the character budget trims them
RETRIEVE_LIMIT = 8
#: how many hits of the session's previous question join a follow-up's grounding
FOLLOW_UP_ENTRIES = 3
#: how many entries an offline answer shows (the best in full, the others as pointers)
OFFLINE_ENTRIES = 3

_CITATION = re.compile(r"\[([A-Za-z0-9][A-Za-z0-9._-]*)\]")
_CODE_ID = re.compile(r"[FA]\d{4}|\d{4}")


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
    #: a safety note from the knowledge, appended because the model's answer left it out
    safety_note: str | None = None
    #: code-like ids the answer cites that are not in the knowledge base at all
    unknown_citations: tuple[str, ...] = ()
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
    question: str
    answer: str | None = None
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
    return error.to_dict() if error is not None else None


@dataclass
class Assistant:
    store: SessionStore
    knowledge: Callable[[], KnowledgeIndex]
    chat: Callable[[], OpenAIChat | None]
    settings: Settings

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
        question = clean_text(question).strip()
        if not question:
            raise InputError("the question is empty", hint='example: omar ask "¿qué es F0002?"')
        if len(question) > MAX_QUESTION_CHARS:
            raise InputError(
                f"the question is too long ({len(question)} characters, at most "
                f"{MAX_QUESTION_CHARS})",
                hint="ask about one thing at a time; add long documents with omar knowledge add",
            )
        session, created = self._pick_session(session_id, new_session)
        history = self._history(session.id, before_seq=None)
        asked = self.store.add_message(session.id, "user", question, status="pending")
        lang = self.knowledge().detect_lang(question)
        hits = self._retrieve(question, lang, history)
        chat = None if offline else self.chat()
        if chat is None:
            result = self._answer_offline(asked, hits, lang, keep_pending=queue)
        else:
            try:
                result = self._answer_online(chat, asked, hits, lang, history, on_delta)
            except ApiError as exc:
                result = self._fall_back(asked, hits, lang, exc)
        return replace(result, new_session=created)

    def sync(
        self,
        on_progress: Callable[[int, int], None] | None = None,
        *,
        retry_failed: bool = False,
    ) -> SyncReport:
        """Send every pending question, oldest first; stop at the first failure a fix cures.

        ``retry_failed`` first puts the questions that failed back in the queue.
        """
        chat = self.chat()
        if chat is None:
            raise NoApiKeyError(
                "no API key configured, so pending questions cannot be sent",
                hint="set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server), then omar sync",
            )
        # One sync at a time, so two of them never send the same question twice; the
        # store's write lock stays free meanwhile, so `omar ask` keeps working.
        with self.store.sync_lock():
            if retry_failed:
                self.store.retry_failed()
            return self._sync_pending(chat, on_progress)

    def _sync_pending(
        self, chat: OpenAIChat, on_progress: Callable[[int, int], None] | None
    ) -> SyncReport:
        pending = self.store.pending()
        items: list[SyncItem] = []
        held = 0  # being answered by a running `ask`: left to it
        for done, queued in enumerate(pending):
            if on_progress:
                on_progress(done, len(pending))
            # None: answered meanwhile, or an `ask` still streaming it holds its lease.
            asked = self.store.claim(queued.id)
            if asked is None:
                held += self.store.get_message(queued.id).status == "pending"
                continue
            try:
                item = self._sync_one(chat, asked)
            except ApiError as exc:
                # A refusal is the question's own only if this endpoint, model and key
                # answered an earlier one; otherwise a config fix cures it for all.
                if _worth_retrying(exc) or not any(i.status == "answered" for i in items):
                    self.store.update_message(asked.id, status="pending", error=exc.message)
                    left = len(pending) - done + held
                    return SyncReport(tuple(items), remaining=left, error=exc)
                self.store.update_message(asked.id, status="failed", error=exc.message)
                items.append(
                    SyncItem(asked.id, asked.session_id, "failed", asked.text, error=exc.message)
                )
                continue
            items.append(item)
        if on_progress:
            on_progress(len(pending), len(pending))
        return SyncReport(tuple(items), remaining=held)

    # -- internals ---------------------------------------------------------------------

    def _pick_session(self, session_id: str | None, new_session: bool) -> tuple[Session, bool]:
        if session_id:
            return self.store.get_session(session_id), False
        if new_session:
            return self.store.create_session(), True
        # decided and created under the store lock: parallel first asks share one session
        return self.store.recent_or_create(timedelta(minutes=self.settings.session_idle_minutes))

    def _history(self, session_id: str, before_seq: int | None) -> list[tuple[str, str]]:
        """Earlier turns worth sending: questions and the answers they got.

        Read newest first, one chunk at a time, so a long session costs what it sends.
        """
        turns: list[tuple[str, str]] = []
        for message in self.store.latest_messages(session_id, before_seq):
            if message.role == "assistant" and message.status in ("answered", "offline"):
                turns.append(("assistant", message.text))
            elif message.role == "user" and message.status != "failed":
                turns.append(("user", message.text))
            if len(turns) == HISTORY_MESSAGES:
                break
        return turns[::-1]

    def _retrieve(self, question: str, lang: str, history: Sequence[tuple[str, str]]) -> list[Hit]:
        """Hits for the question first, then the best few for the session's previous question.

        A follow-up ("¿y si persiste?") names no code: what the turn before was about keeps
        the grounding on topic, while the question's own hits still lead.
        """
        index = self.knowledge()
        previous = next((text for role, text in reversed(history) if role == "user"), None)
        if previous is None:
            return index.search(question, lang=lang, limit=RETRIEVE_LIMIT)
        own = index.search(question, lang=lang, limit=RETRIEVE_LIMIT - FOLLOW_UP_ENTRIES)
        seen = {h.id for h in own}
        earlier = index.search(previous, lang=lang, limit=RETRIEVE_LIMIT)
        return [*own, *[h for h in earlier if h.id not in seen][:FOLLOW_UP_ENTRIES]]

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

    def _fall_back(
        self, asked: Message, hits: Sequence[Hit], lang: str, exc: ApiError
    ) -> AskResult:
        """An offline answer after an API failure; the question waits if a retry may work."""
        keep = _worth_retrying(exc)
        self.store.update_message(
            asked.id, status="pending" if keep else "failed", error=exc.message
        )
        return replace(self._answer_offline(asked, hits, lang, keep_pending=keep), error=exc)

    def _answer_online(
        self,
        chat: OpenAIChat,
        asked: Message,
        hits: Sequence[Hit],
        lang: str,
        history: Sequence[tuple[str, str]],
        on_delta: Callable[[str], None] | None,
    ) -> AskResult:
        """Stream an answer; a cut or interrupted stream keeps its partial text."""
        grounding = build_grounding(hits, self.settings.context_chars, lang)
        messages = build_messages(asked.text, grounding, history)
        received: list[str] = []

        def relay(delta: str) -> None:
            received.append(delta)
            if on_delta is not None:
                on_delta(delta)

        try:
            result = chat.stream_chat(messages, model=self.settings.model, on_delta=relay)
        except IncompleteAnswerError as exc:
            if not exc.partial.strip():
                raise _empty_answer() from None
            return self._record_online(asked, grounding.hits, lang, exc.partial, error=exc)
        except KeyboardInterrupt:
            if received:
                partial = "".join(received)
                cut = IncompleteAnswerError("interrupted by the user", partial=partial)
                self._record_online(asked, grounding.hits, lang, partial, error=cut)
            raise
        if not result.text.strip():
            raise _empty_answer()
        return self._record_online(asked, grounding.hits, lang, result.text, result=result)

    def _record_online(
        self,
        asked: Message,
        given: Sequence[Hit],
        lang: str,
        text: str,
        *,
        result: ChatResult | None = None,
        error: IncompleteAnswerError | None = None,
    ) -> AskResult:
        """Store an online answer, whole (with ``result``) or partial (with ``error``)."""
        from omar_cli.store import Usage

        cited = {c.upper() for c in _CITATION.findall(text)}
        sources = tuple(_source_ref(h, lang, cited=h.id.upper() in cited) for h in given)
        # the safety notes of the best entry and of everything the answer cites
        about = [h.entry for i, h in enumerate(given) if i == 0 or h.id.upper() in cited]
        safety = missing_safety(text, about, lang)
        if safety:
            text = f"{text.rstrip()}\n\n⚠ {safety}"
        index = self.knowledge()
        unknown = tuple(sorted(c for c in cited if _CODE_ID.fullmatch(c) and not index.get(c)))
        usage = asdict(result.usage) if result and result.usage else None
        meta: dict[str, Any] = {"prompt_version": PROMPT_VERSION}
        if result is not None:
            meta["finish_reason"] = result.finish_reason
        if safety:
            meta["safety_appended"] = True
        answer = self.store.add_message(
            asked.session_id,
            "assistant",
            text,
            status="incomplete" if error else "answered",
            mode="online",
            model=result.model if result else self.settings.model,
            usage=Usage(**usage) if usage else None,
            latency_ms=result.latency_ms if result else None,
            sources=tuple(s.id for s in sources),
            reply_to=asked.id,
            error=error.message if error else None,
            meta=meta,
        )
        # An incomplete answer leaves the question pending so `omar sync` can complete it.
        self.store.update_message(
            asked.id,
            status="pending" if error else "answered",
            error=error.message if error else None,
        )
        return AskResult(
            session_id=asked.session_id,
            question_id=asked.id,
            message_id=answer.id,
            answer=text,
            sources=sources,
            mode="online",
            status=answer.status,
            lang=lang,
            model=answer.model,
            usage=usage,
            latency_ms=answer.latency_ms,
            prompt_version=PROMPT_VERSION,
            queued=error is not None,
            safety_note=safety,
            unknown_citations=unknown,
            error=error,
        )

    def _sync_one(self, chat: OpenAIChat, asked: Message) -> SyncItem:
        lang = self.knowledge().detect_lang(asked.text)
        history = self._history(asked.session_id, before_seq=asked.seq)
        hits = self._retrieve(asked.text, lang, history)
        result = self._answer_online(chat, asked, hits, lang, history, on_delta=None)
        if result.error is not None:
            raise result.error
        return SyncItem(
            asked.id,
            asked.session_id,
            "answered",
            asked.text,
            answer=result.answer,
            message_id=result.message_id,
        )


def _worth_retrying(exc: ApiError) -> bool:
    # A rejected request as such (bad model, too long) would fail again unchanged; a
    # rejected key will work once the key is fixed.
    return exc.retryable or isinstance(exc, AuthError)


def _empty_answer() -> ServerError:
    return ServerError("the endpoint sent an empty answer", hint="check the model (omar status)")


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
