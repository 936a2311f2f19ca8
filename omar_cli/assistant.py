"""The assistant core: every question, from any command, goes through here.

It stores the question before any network call, grounds it in the knowledge base, asks the
chat endpoint (streaming), records the answer with its usage and latency, and falls back to
an offline answer from the knowledge when the endpoint cannot be reached. It returns data;
it never prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from omar_cli.errors import (
    ApiError,
    IncompleteAnswerError,
    InputError,
    ServerError,
    StoreError,
    worth_retrying,
)
from omar_cli.i18n import _
from omar_cli.knowledge.offline import compose_offline_answer, greeting, missing_safety
from omar_cli.prompt import (
    PROMPT_VERSION,
    Grounding,
    RequestFit,
    Turn,
    build_grounding,
    build_messages,
    fit_request,
    request_sha256,
    unknown_block,
)
from omar_cli.provenance import (
    IMAGE_SUFFIXES,
    offline_provenance,
    online_provenance,
    stored_images,
)
from omar_cli.results import AskResult as AskResult
from omar_cli.results import Problem, problem_of
from omar_cli.results import SyncItem as SyncItem
from omar_cli.results import SyncReport as SyncReport
from omar_cli.settings import Settings
from omar_cli.sources import SourceRef, backing, entry_ref
from omar_cli.text import clean_text
from omar_cli.unsaved import question_lost, saving, tolerant, unsaved_question

if TYPE_CHECKING:
    from omar_cli.knowledge.index import Hit, KnowledgeIndex
    from omar_cli.llm.model import ChatMessage, ChatModel, ChatResult, ImagePart
    from omar_cli.profiles import Profile

    _Build = Callable[[Profile | None, bool], tuple[list[ChatMessage], int]]
    from omar_cli.store import Message, Session, SessionStore
    from omar_cli.transcription_engines import LocalTranscriber

#: a question longer than this is a pasted document, not a question
MAX_QUESTION_CHARS = 8000
#: how many earlier messages of the session are sent along as conversation history
HISTORY_MESSAGES = 12
#: how many knowledge hits are considered before the character budget trims them
RETRIEVE_LIMIT = 8
#: how many hits of the session's previous question join a follow-up's grounding
FOLLOW_UP_ENTRIES = 3
#: earlier photos sent again with a follow-up: the newest one only, so a long session with
#: photos costs one image per question, not one per photo ever taken
HISTORY_IMAGES = 1
#: how many entries an offline answer shows (the best in full, the others as pointers)
OFFLINE_ENTRIES = 3


@dataclass
class Assistant:
    store: SessionStore
    knowledge: Callable[[], KnowledgeIndex]
    chat: Callable[[], ChatModel | None]
    settings: Settings
    #: Whisper on this laptop for voice notes (None: built from the settings when needed)
    local_asr: Callable[[], LocalTranscriber] | None = None
    #: told when one endpoint or engine failed and the next is tried (stderr, in the CLI)
    on_fallback: Callable[[str], None] | None = None

    def ask(
        self,
        question: str,
        *,
        session_id: str | None = None,
        new_session: bool = False,
        offline: bool = False,
        queue: bool = False,
        on_delta: Callable[[str], None] | None = None,
        images: Sequence[ImagePart] = (),
        meta: Mapping[str, Any] | None = None,
    ) -> AskResult:
        """Answer one question, online when possible, from the knowledge otherwise.

        ``images`` are photos the question carries: kept in the store by sha256, sent as
        image parts, answered by the vision model. A photo with no text is a question.
        ``meta`` is stored with the question (e.g. what a command did to its photos; an
        ``image_detail`` there is the detail `sync` sends the stored photos with).
        """
        question = _checked_question(question, has_images=bool(images))
        chat = None if offline else self.chat()
        with tolerant() as ledger:
            try:
                asked, history, created = self._store_question(
                    question, session_id, new_session, chat, queue, images, meta
                )
            except StoreError as exc:
                if session_id or not question_lost(exc):
                    raise  # a session named by the user that cannot be read is the answer
                asked, history, created = unsaved_question(question, self._now()), [], False
            result = self._answer(asked, history, chat, queue, on_delta, images)
        if not ledger.question_saved:  # nothing in the store: no ids, nothing queued
            result = replace(result, session_id=None, question_id=None, queued=False)
        return replace(result, new_session=created, not_saved=problem_of(ledger.not_saved()))

    def _store_question(
        self,
        question: str,
        session_id: str | None,
        new_session: bool,
        chat: ChatModel | None,
        queue: bool,
        images: Sequence[ImagePart],
        meta: Mapping[str, Any] | None,
    ) -> tuple[Message, list[Turn], bool]:
        session, created = self._pick_session(session_id, new_session)
        # the question's own photos are what it asks about: no earlier one joins them
        history = self._history(session.id, None, photos=chat is not None and not images)
        media = tuple(self.store.add_media(i.data, i.suffix).sha256 for i in images)
        # Answered offline and not queued: stored as such at once, so that if this process
        # dies before the answer is stored, `omar sync` never sends it online.
        mode = "offline" if chat is None and not queue else None
        asked = self.store.add_message(
            session.id,
            "user",
            question,
            status="pending",
            media=media,
            mode=mode,
            meta=dict(meta or {}),
        )
        return asked, history, created

    def _now(self) -> datetime:
        from omar_cli.clock import utc_now

        return utc_now()

    def _answer(
        self,
        asked: Message,
        history: list[Turn],
        chat: ChatModel | None,
        queue: bool,
        on_delta: Callable[[str], None] | None,
        images: Sequence[ImagePart],
    ) -> AskResult:
        question = asked.text
        lang = self.knowledge().detect_lang(question)
        hits = self._retrieve(question, lang, [(t.role, t.text) for t in history])
        if chat is None:
            result = self._answer_offline(asked, hits, lang, keep_pending=queue)
        else:
            try:
                result = self._answer_online(
                    chat, asked, hits, lang, history, on_delta, images=images
                )
            except ApiError as exc:
                result = self._fall_back(asked, hits, lang, exc)
            else:
                if result.status == "incomplete":  # a cut answer: the knowledge completes it
                    offline_result = self._answer_offline(asked, hits, lang, keep_pending=True)
                    result = replace(result, offline_answer=offline_result.answer)
        return result

    def sync(
        self,
        on_progress: Callable[[int, int], None] | None = None,
        *,
        retry_failed: bool = False,
    ) -> SyncReport:
        """Send every pending question, oldest first; stop at the first failure a fix cures
        (see omar_cli/syncing.py)."""
        from omar_cli.syncing import sync_queue

        return sync_queue(self, on_progress, retry_failed=retry_failed)

    def answer_queued(self, chat: ChatModel, asked: Message) -> SyncItem:
        """Answer a question claimed from the queue, as `ask` would have with the network;
        a cut answer raises, so the question stays pending."""
        lang = self.knowledge().detect_lang(asked.text)
        history = self._history(asked.session_id, asked.seq, photos=not asked.media)
        hits = self._retrieve(asked.text, lang, [(t.role, t.text) for t in history])
        result = self._answer_online(chat, asked, hits, lang, history, on_delta=None)
        if result.error is not None:
            raise IncompleteAnswerError(
                result.error.message, partial=result.answer, hint=result.error.hint
            )
        return SyncItem(
            asked.id,
            asked.session_id,
            "answered",
            asked.text,
            answer=result.answer,
            message_id=result.message_id,
        )

    # -- internals ---------------------------------------------------------------------

    def _pick_session(self, session_id: str | None, new_session: bool) -> tuple[Session, bool]:
        if session_id:
            return self.store.get_session(session_id), False
        if new_session:
            return self.store.create_session(), True
        # decided and created under the store lock: parallel first asks share one session
        return self.store.recent_or_create(timedelta(minutes=self.settings.session_idle_minutes))

    def _history(self, session_id: str, before_seq: int | None, *, photos: bool) -> list[Turn]:
        """Earlier turns worth sending: questions and the answers they got.

        Read newest first, one chunk at a time, so a long session costs what it sends. With
        ``photos``, the newest earlier photo (HISTORY_IMAGES) travels again as an image;
        older ones stay named by a placeholder.
        """
        turns: list[Turn] = []
        images_left = HISTORY_IMAGES if photos else 0
        for message in self.store.latest_messages(session_id, before_seq):
            if message.meta.get("kind") == "note":  # kept for review, not part of the chat
                continue
            if message.role == "assistant" and message.status in ("answered", "offline"):
                turns.append(Turn("assistant", message.text, message.id))
            elif message.role == "user" and message.status != "failed":
                turn = Turn("user", message.text, message.id, message.media)
                if images_left and message.media:
                    turn = self._with_photos(turn, message, images_left)
                    images_left -= len(turn.images)
                turns.append(turn)
            if len(turns) == HISTORY_MESSAGES:
                break
        return turns[::-1]

    def _with_photos(self, turn: Turn, message: Message, most: int) -> Turn:
        """The turn with its last ``most`` photos attached; a photo file gone stays a name."""
        try:
            images = stored_images(self.store, message)[-most:]
        except (OSError, InputError):
            return turn
        shas = tuple(s for s in message.media if _is_image(self.store.media_path(s).suffix))
        return replace(turn, images=images, image_media=shas[-most:] if images else ())

    def _retrieve(self, question: str, lang: str, history: Sequence[tuple[str, str]]) -> list[Hit]:
        """Hits for the question; a real follow-up also gets the previous question's.

        A greeting gets none. A question with a subject of its own (a code, or an entry that
        answers it) is answered on that subject; a short one without ("¿y si persiste?") or
        one pointing back ("and where is that set?") keeps the previous topic. A longer one
        with no subject the knowledge knows ("¿cuánto cuesta un ACS150 en México?") is a new
        question it cannot answer, not a follow-up to dress in the previous topic.
        """
        from omar_cli.knowledge.lang import is_greeting, is_short, points_back

        if is_greeting(question):
            return []
        index = self.knowledge()
        own = index.search(question, lang=lang, limit=RETRIEVE_LIMIT)
        previous = next((text for role, text in reversed(history) if role == "user"), None)
        if previous is None or is_greeting(previous):
            return own
        named = bool(index.named_in(question) or index.unknown_codes(question))
        subject = named or any(h.match == "strong" for h in own)
        if not points_back(question) and (subject or not is_short(question)):
            return own
        earlier = index.search(previous, lang=lang, limit=FOLLOW_UP_ENTRIES)
        # a question naming its own code or entry leads with it; "and if it comes back?" does
        # not, whatever its words happen to match
        first, then = (own, earlier) if named else (earlier, own)
        seen = {h.id for h in first}
        return [*first, *(h for h in then if h.id not in seen)][:RETRIEVE_LIMIT]

    def _answer_offline(
        self, asked: Message, hits: Sequence[Hit], lang: str, *, keep_pending: bool
    ) -> AskResult:
        from omar_cli.knowledge.lang import is_greeting

        if is_greeting(asked.text):
            text, shown = greeting(lang), []
        else:
            unknown = self.knowledge().unknown_codes(asked.text)
            shown = list(hits[:OFFLINE_ENTRIES])
            text = compose_offline_answer(
                shown, lang, see_also=OFFLINE_ENTRIES - 1, unknown=unknown
            )
        sources = tuple(_source_ref(h, lang, cited=True) for h in shown)
        answer = saving(
            _("the answer was not saved"),
            lambda: self.store.add_message(
                asked.session_id,
                "assistant",
                text,
                status="offline",
                mode="offline",
                sources=tuple(s.id for s in sources),
                reply_to=asked.id,
                # no model, no prompt: what it rests on is the entries shown
                provenance=offline_provenance([s.id for s in sources]),
            ),
        )
        if not keep_pending:
            saving(
                _("the question was not marked answered"),
                lambda: self.store.update_message(asked.id, status="offline"),
            )
        return AskResult(
            session_id=asked.session_id,
            question_id=asked.id,
            message_id=answer.id if answer else None,
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
        keep = worth_retrying(exc)
        result = self._answer_offline(asked, hits, lang, keep_pending=keep)
        # after the offline answer, which marks a question it does not keep as answered offline
        saving(
            _("the question's state was not saved"),
            lambda: self.store.update_message(
                asked.id, status="pending" if keep else "failed", error=exc.message
            ),
        )
        return replace(result, error=Problem.of(exc))

    def _answer_online(
        self,
        chat: ChatModel,
        asked: Message,
        hits: Sequence[Hit],
        lang: str,
        history: Sequence[Turn],
        on_delta: Callable[[str], None] | None,
        *,
        images: Sequence[ImagePart] = (),
    ) -> AskResult:
        """Stream an answer; a cut or interrupted stream keeps its partial text.

        A question with photos goes to the vision model, the photos as image parts; when
        they are not given (`sync`), they are read back from the store by their sha256.
        """
        images = tuple(images) or stored_images(self.store, asked)
        unknown = self.knowledge().unknown_codes(asked.text)
        block = unknown_block(unknown) if unknown else None
        has_photo = bool(images) or any(t.images for t in history)
        model = self.settings.vision_model if has_photo else self.settings.model
        built: dict[str | None, _Sent] = {}

        def build(profile: Profile | None, shrink: bool) -> tuple[list[ChatMessage], int]:
            """The request fitted to the profile's context window, kept for provenance."""
            fit = fit_request(
                profile.context_window if profile else None,
                context_chars=self.settings.context_chars,
                question=asked.text,
                history=history,
                extra_chars=len(block or ""),
                shrink=shrink,
            )
            grounding = build_grounding(hits, fit.grounding_chars, lang)
            kept = history[len(history) - fit.history_turns :] if fit.history_turns else []
            messages = build_messages(
                asked.text, grounding, kept, block, images, compact=fit.compact
            )
            sha = request_sha256(messages)
            sent = _Sent(grounding, kept, block, model, chat.host, sha, None, fit)
            built[profile.name if profile else None] = sent
            return messages, fit.max_tokens

        from omar_cli.llm.chain import ProfileChain

        first = chat.endpoints[0].profile if isinstance(chat, ProfileChain) else None
        build(first, False)  # what the first profile (or a plain model) gets, until one answers
        sent = built[first.name if first else None]
        started = time.monotonic()
        received: list[str] = []

        def relay(delta: str) -> None:
            received.append(delta)
            if on_delta is not None:
                on_delta(delta)

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            result = self._stream(chat, build, model, relay)
        except IncompleteAnswerError as exc:
            if not exc.partial.strip():
                raise _empty_answer() from None
            sent = _answered_by(chat, built, sent)
            return self._record_online(asked, sent, lang, exc.partial, elapsed(), error=exc)
        except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM/SIGHUP turned into it
            sent = _answered_by(chat, built, sent)
            if received:
                partial = "".join(received)
                why = getattr(stop, "reason", None) or _("interrupted by the user")
                cut = IncompleteAnswerError(why, partial=partial)
                self._record_online(asked, sent, lang, partial, elapsed(), error=cut)
            raise
        if not result.text.strip():
            raise _empty_answer()
        if result.host is not None:
            sent = built.get(result.profile, sent)
            sent = replace(sent, host=result.host, profile=result.profile)
        return self._record_online(asked, sent, lang, result.text, elapsed(), result=result)

    @staticmethod
    def _stream(
        chat: ChatModel, build: _Build, model: str, relay: Callable[[str], None]
    ) -> ChatResult:
        from omar_cli.llm.chain import ProfileChain

        if isinstance(chat, ProfileChain):
            return chat.stream_fitted(build, on_delta=relay)
        messages, bound = build(None, False)
        return chat.stream_chat(messages, model=model, on_delta=relay, max_tokens=bound)

    def _record_online(
        self,
        asked: Message,
        sent: _Sent,
        lang: str,
        text: str,
        elapsed_ms: int,
        *,
        result: ChatResult | None = None,
        error: IncompleteAnswerError | None = None,
    ) -> AskResult:
        """Store an online answer, whole (with ``result``) or partial (with ``error``).

        Sources are what the answer cites; what was given and not cited is kept apart. A
        whole answer gets the user documents' safety conflicts flagged and, if it left the
        rule out, one safety note; a cut one is followed by the offline answer instead.
        """
        from omar_cli.store import Usage

        grounding = sent.grounding
        model_text = text
        back = backing(self.knowledge(), grounding, text, lang)
        safety = conflict_note = None
        if error is None:  # a cut answer is followed by the offline answer, which has them
            conflict_note = back.conflict_note
            # most relevant first: the best entry given, then what the answer cites
            about = [*[h.entry for h in grounding.hits[:1]], *back.citations.entries]
            safety = missing_safety(f"{text}\n{conflict_note or ''}", about, lang)
        cut = _length_note(lang) if result and result.finish_reason == "length" else None
        added = (cut, conflict_note, f"⚠ {safety}" if safety else None)
        appended = [note for note in added if note]
        if appended:
            text = "\n\n".join([text.rstrip(), *appended])
        usage = asdict(result.usage) if result and result.usage else None
        provenance = online_provenance(
            model_text=model_text,
            safety_note=safety,
            grounding=grounding,
            request_sha256=sent.sha256,
            history=sent.history,
            unknown=sent.unknown,
            model=sent.model,
            host=sent.host,
            finish_reason=result.finish_reason if result else None,
            profile=sent.profile,
            fit=sent.fit,
        )
        status = "incomplete" if error else "answered"
        model = result.model if result else sent.model
        latency_ms = result.latency_ms if result else elapsed_ms
        answer = saving(
            _("the answer was not saved"),
            lambda: self.store.add_message(
                asked.session_id,
                "assistant",
                text,
                status=status,
                mode="online",
                model=model,
                usage=Usage(**usage) if usage else None,
                latency_ms=latency_ms,
                sources=tuple(s.id for s in back.sources),
                reply_to=asked.id,
                error=error.message if error else None,
                provenance=provenance,
                meta={"also_given": [s.id for s in back.also_given]},
            ),
        )
        # A whole answer closes its question in the store's own write; an incomplete one
        # leaves it pending so `omar sync` can complete it.
        if error is not None:
            saving(
                _("the question was not marked answered"),
                lambda: self.store.update_message(asked.id, status="pending", error=error.message),
            )
        return AskResult(
            session_id=asked.session_id,
            question_id=asked.id,
            message_id=answer.id if answer else None,
            answer=text,
            sources=back.sources,
            mode="online",
            status=status,
            lang=lang,
            model=model,
            profile=sent.profile,
            usage=usage,
            latency_ms=latency_ms,
            prompt_version=PROMPT_VERSION,
            queued=error is not None,
            safety_note=safety,
            unknown_citations=back.citations.unknown,
            also_given=back.also_given,
            conflict_note=conflict_note,
            length_note=cut,
            error=Problem.of(error) if error else None,
        )


def _checked_question(question: str, *, has_images: bool) -> str:
    question = clean_text(question).strip()
    if not question and not has_images:
        raise InputError(_("the question is empty"), hint=_('example: omar ask "¿qué es F0002?"'))
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(
            _("the question is too long ({n} characters, at most {most})").format(
                n=len(question), most=MAX_QUESTION_CHARS
            ),
            hint=_("ask about one thing at a time; add long documents with omar knowledge add"),
        )
    return question


def _length_note(lang: str) -> str:
    """Said after an answer that reached its length bound: the end may be missing."""
    from omar_cli.i18n import N_, translator

    note = N_("(The answer reached its length limit and may be missing its end: ask for the rest.)")
    return translator(lang).gettext(note)


def _empty_answer() -> ServerError:
    return ServerError(
        _("the endpoint sent an empty answer"), hint=_("check the model (omar status)")
    )


def _source_ref(hit: Hit, lang: str, *, cited: bool) -> SourceRef:
    return entry_ref(hit.entry, lang, cited=cited, match=hit.match)


@dataclass(frozen=True)
class _Sent:
    """What one chat request carried, for the provenance of the answer it produces."""

    grounding: Grounding
    history: Sequence[Turn]
    unknown: str | None
    model: str
    host: str
    sha256: str
    #: the profile that answered; None until the chain says (or for a plain ChatModel)
    profile: str | None = None
    #: how the request was fitted to the endpoint's context window
    fit: RequestFit | None = None


def _answered_by(chat: ChatModel, built: Mapping[str | None, _Sent], sent: _Sent) -> _Sent:
    """For a cut or interrupted answer: what went to the profile whose endpoint answered."""
    from omar_cli.llm.chain import ProfileChain

    if isinstance(chat, ProfileChain) and chat.current is not None:
        ep, model = chat.current, chat.current_model or sent.model
        sent = built.get(ep.profile.name, sent)
        return replace(sent, host=ep.model.host, profile=ep.profile.name, model=model)
    return sent


def _is_image(suffix: str) -> bool:
    return suffix in IMAGE_SUFFIXES
