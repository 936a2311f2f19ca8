"""Voice notes through the assistant core: stored first, transcribed, queued when offline.

A recording (made by ``audio.Recorder`` or given as a file) is stored in the session before
anything is sent: the audio content-addressed beside the database, and a user message that
refers to it (``meta.kind == "recording"``). Then it is transcribed by the core's
``ChatModel`` with the ACS150 vocabulary as the prompt, so codes come out as "F0001" and
"2202". The transcript becomes the message's text (and ``meta.transcription.text``); with
``ask`` it is asked as the next question instead, grounded like `omar ask`, and the
recording's text says so (the chat history would otherwise hold it twice). When the
endpoint cannot be reached the message stays pending, and `omar sync` transcribes it (and
asks it) later: see ``complete_queued``.

A silent recording is refused before it is stored or sent. A file over the API's upload
limit is re-encoded as FLAC, and if that is still too big, cut into FLAC parts whose
transcripts are joined (``audio_files.upload_clips``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omar_cli.audio import SPEECH_DBFS
from omar_cli.audio_files import (
    ACCEPTED_SUFFIXES,
    MAX_PROMPT_CHARS,
    MAX_UPLOAD_BYTES,
    AudioFacts,
    facts_of_recording,
    inspect_file,
    upload_clips,
    vocabulary_prompt,
)
from omar_cli.errors import ApiError, AuthError, InputError
from omar_cli.i18n import _
from omar_cli.results import Problem
from omar_cli.store import Review

if TYPE_CHECKING:
    from omar_cli.assistant import AskResult, Assistant, SyncItem
    from omar_cli.llm.model import ChatModel
    from omar_cli.store import Message

__all__ = [
    "ACCEPTED_SUFFIXES",
    "MAX_PROMPT_CHARS",
    "MAX_UPLOAD_BYTES",
    "AudioFacts",
    "VoiceNotes",
    "VoiceOptions",
    "VoiceResult",
    "facts_of_recording",
    "inspect_file",
    "upload_clips",
    "vocabulary_prompt",
]

#: how much of the previous part's transcript leads the next part's prompt
CARRY_CHARS = 200
RECORDING = "recording"


@dataclass(frozen=True)
class VoiceResult:
    audio: AudioFacts
    session_id: str | None = None
    recording_id: str | None = None  # the stored message that holds the audio
    transcript: str | None = None
    model: str | None = None
    language: str | None = None
    latency_ms: int | None = None
    parts: int = 0  # uploads it took (more than one: split for the upload limit)
    queued: bool = False
    new_session: bool = False
    #: a second Ctrl-C: the recording is kept on disk, nothing stored or sent
    abandoned: bool = False
    stop_reason: str | None = None
    kept_at: str | None = None  # where the recording stays when it is not stored
    ask: AskResult | None = None
    #: why the voice note was not transcribed (the answer's own is ``ask.error``)
    error: Problem | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = self.ask.to_dict() if self.ask is not None else {}
        error = self.error if self.error is not None else (self.ask.error if self.ask else None)
        data.update(
            session_id=self.session_id,
            recording_id=self.recording_id,
            transcript=self.transcript,
            transcription_model=self.model,
            language=self.language,
            transcription_latency_ms=self.latency_ms,
            parts=self.parts,
            queued=self.queued or bool(self.ask and self.ask.queued),
            asked=self.ask is not None,
            abandoned=self.abandoned,
            stop_reason=self.stop_reason,
            kept_at=self.kept_at,
            silent=self.audio.silent,
            duration_s=self.audio.duration,
            sample_rate=self.audio.sample_rate,
            file_size=self.audio.bytes,
            audio=self.audio.to_dict(),
            error=error.to_dict() if error is not None else None,
        )
        if self.ask is None:
            data["new_session"] = self.new_session
        return data


# --------------------------------------------------------------------------- the flow


@dataclass(frozen=True)
class VoiceOptions:
    language: str | None
    ask: bool = False
    session_id: str | None = None
    new_session: bool = False
    offline: bool = False


class VoiceNotes:
    """Stores, transcribes and (with ``ask``) asks voice notes, through the assistant core."""

    def __init__(self, assistant: Assistant, *, upload_limit: int = MAX_UPLOAD_BYTES) -> None:
        self.assistant = assistant
        self.store = assistant.store
        self.upload_limit = upload_limit

    def prompt(self, lang: str | None) -> str:
        return vocabulary_prompt(self.assistant.knowledge().entries, lang or "es")

    def process(
        self,
        path: Path,
        facts: AudioFacts,
        options: VoiceOptions,
        *,
        on_delta: Callable[[str], None] | None = None,
        on_transcript: Callable[[str], None] | None = None,
        stop_reason: str | None = None,
    ) -> VoiceResult:
        """Store the recording, then transcribe it (and ask it) or queue it for sync."""
        if facts.silent:
            raise _silent(facts)
        message, created = self._keep(path, facts, options)
        stored = self.store.media_path(message.media[0])
        base = VoiceResult(
            audio=replace(facts, path=str(stored)),
            session_id=message.session_id,
            recording_id=message.id,
            language=options.language,
            new_session=created,
            stop_reason=stop_reason,
        )
        chat = None if options.offline else self.assistant.chat()
        if chat is None:
            self.store.update_message(message.id, lease=None)  # free for `omar sync`
            return replace(base, queued=True)
        try:
            done = self._transcribe(chat, message, stored)
        except ApiError as exc:
            queued = _worth_retrying(exc)
            self.store.update_message(
                message.id, status="pending" if queued else "failed", error=exc.message
            )
            return replace(base, queued=queued, error=Problem.of(exc))
        result = replace(base, **done)
        if on_transcript is not None and result.transcript is not None:
            on_transcript(result.transcript)
        if options.ask and result.transcript:
            asked = self.assistant.ask(
                result.transcript,
                session_id=message.session_id,
                on_delta=on_delta,
                meta={"from_recording": message.id},
            )
            result = replace(result, ask=asked)
        return result

    def _keep(self, path: Path, facts: AudioFacts, options: VoiceOptions) -> tuple[Message, bool]:
        store = self.assistant.store
        if options.session_id:
            session, created = store.get_session(options.session_id), False
        elif options.new_session:
            session, created = store.create_session(), True
        else:
            idle = timedelta(minutes=self.assistant.settings.session_idle_minutes)
            session, created = store.recent_or_create(idle)
        media = store.add_media(path.read_bytes(), facts.format)
        label = _("[voice note, {seconds} s, waiting for its transcript]").format(
            seconds=round(facts.duration or 0)
        )
        meta = {
            "kind": RECORDING,
            "audio": {k: v for k, v in facts.to_dict().items() if k != "path"}
            | {"source": Path(facts.path).name},
            "transcription": {
                "language": options.language,
                "model": self.assistant.settings.transcription_model,
                "ask": options.ask,
            },
        }
        message = store.add_message(
            session.id, "user", label, status="pending", mode="online", media=(media.sha256,),
            meta=meta,
        )  # fmt: skip
        return message, created

    def _transcribe(self, chat: ChatModel, message: Message, path: Path) -> dict[str, Any]:
        """Transcribe a stored recording and record the transcript on its message."""
        wanted = dict(message.meta.get("transcription") or {})
        language = wanted.get("language")
        model = str(wanted.get("model") or self.assistant.settings.transcription_model)
        facts = _facts_from(message, path)
        vocabulary = self.prompt(language)
        texts: list[str] = []
        latency = 0
        for clip in upload_clips(path, facts, self.upload_limit):
            carry = texts[-1][-CARRY_CHARS:] if texts else ""
            prompt = f"{vocabulary} {carry}".strip()
            got = chat.transcribe(clip, model=model, language=language, prompt=prompt)
            texts.append(got.text.strip())
            latency += got.latency_ms
        transcript = " ".join(t for t in texts if t)
        done = {**wanted, "status": "done", "model": model, "latency_ms": latency}
        done.update(parts=len(texts), text=transcript)
        meta = {**message.meta, "transcription": done}
        # Asked, the transcript is the next question's text; kept here too, the chat history
        # would hold it twice in a row.
        shown = transcript
        if wanted.get("ask") and transcript:
            shown = _("[voice note, {seconds} s: asked as the next question]").format(
                seconds=round(facts.duration or 0)
            )
        # a transcript is a reviewable item, like an answer: a supervisor approves or corrects it
        self.store.update_message(
            message.id, text=shown, status="answered", error=None, meta=meta, model=model,
            latency_ms=latency, review=Review(),
        )  # fmt: skip
        return {
            "transcript": transcript,
            "model": model,
            "latency_ms": latency,
            "parts": len(texts),
        }

    def complete_queued(self, chat: ChatModel) -> tuple[list[SyncItem], ApiError | None]:
        """Transcribe every queued recording, oldest first (`omar sync`); one that asked for
        it is then queued as a question, which the same sync answers.

        Stops at the first failure a retry may cure, as sync does for questions.
        """
        from omar_cli.assistant import SyncItem

        items: list[SyncItem] = []
        for queued in queued_recordings(self.store.pending()):
            message = self.store.claim(queued.id)
            if message is None:
                continue
            try:
                path = self.store.media_path(message.media[0])
                done = self._transcribe(chat, message, path)
            except ApiError as exc:
                retry = _worth_retrying(exc)
                status = "pending" if retry else "failed"
                self.store.update_message(message.id, status=status, error=exc.message)
                if retry:
                    return items, exc
                items.append(SyncItem(message.id, message.session_id, "failed", message.text,
                                      error=exc.message))  # fmt: skip
                continue
            if (message.meta.get("transcription") or {}).get("ask") and done["transcript"]:
                self.store.add_message(
                    message.session_id, "user", done["transcript"], status="pending",
                    mode="online", lease=None, meta={"from_recording": message.id},
                )  # fmt: skip
            items.append(SyncItem(message.id, message.session_id, "transcribed", message.text,
                                  answer=done["transcript"], message_id=message.id))  # fmt: skip
        return items, None


def queued_recordings(pending: Sequence[Message]) -> list[Message]:
    return [m for m in pending if is_recording(m)]


def is_recording(message: Message) -> bool:
    return message.meta.get("kind") == RECORDING


def _facts_from(message: Message, path: Path) -> AudioFacts:
    stored = dict(message.meta.get("audio") or {})
    return AudioFacts(
        path=str(path),
        sha256=message.media[0] if message.media else "",
        bytes=path.stat().st_size,
        format=path.suffix.lstrip("."),
        duration=stored.get("duration"),
        sample_rate=stored.get("sample_rate"),
        channels=stored.get("channels"),
    )


def _silent(facts: AudioFacts) -> InputError:
    if facts.peak_dbfs is not None and facts.peak_dbfs >= SPEECH_DBFS:  # a click, a word cut
        return InputError(
            _("the recording holds too little sound ({seconds:.1f} s): nothing was sent").format(
                seconds=facts.sound_seconds or 0.0
            ),
            hint=_("record again and speak a little longer"),
        )
    return InputError(
        _("the recording is silent (loudest {peak} dBFS): nothing was sent").format(
            peak=facts.peak_dbfs
        ),
        hint=_("check that the microphone is not muted, or pick it with --device"),
    )


def _worth_retrying(exc: ApiError) -> bool:
    return exc.retryable or isinstance(exc, AuthError)
