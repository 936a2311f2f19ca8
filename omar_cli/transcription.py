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

import re
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
    vocabulary_lead,
    vocabulary_prompt,
)
from omar_cli.errors import InputError, OmarError
from omar_cli.i18n import _
from omar_cli.results import Problem
from omar_cli.store import Review
from omar_cli.transcription_engines import EngineFailed, Engines, LocalSetup

if TYPE_CHECKING:
    from omar_cli.assistant import AskResult, Assistant, SyncItem
    from omar_cli.llm.model import ChatModel
    from omar_cli.store import Message
    from omar_cli.transcription_engines import LocalTranscriber

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
    #: what transcribed it (transcription_engines.EngineDone.engine)
    engine: dict[str, Any] | None = None
    #: a stretch the model repeated over and over ("TOTOTOTO…"), a sign of a garbled
    #: transcript; None when there is none
    repeated: str | None = None
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
            transcription_engine=self.engine,
            transcript_repeated=self.repeated,
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
    #: only this laptop's model (--local), now and when `omar sync` completes it
    local: bool = False


class VoiceNotes:
    """Stores, transcribes and (with ``ask``) asks voice notes, through the assistant core."""

    def __init__(self, assistant: Assistant, *, upload_limit: int = MAX_UPLOAD_BYTES) -> None:
        self.assistant = assistant
        self.store = assistant.store
        self.upload_limit = upload_limit

    def prompt(self, lang: str | None) -> str:
        return vocabulary_prompt(self.assistant.knowledge().entries, lang or "es")

    def engines(self, chat: ChatModel | None) -> Engines:
        return Engines(
            chat,
            self.assistant.local_asr or self._build_local,
            upload_limit=self.upload_limit,
            on_fallback=self.assistant.on_fallback,
        )

    def _build_local(self) -> LocalTranscriber:
        from omar_cli.llm.whisper_local import LocalWhisper

        return LocalWhisper(LocalSetup.from_settings(self.assistant.settings))

    def check_local(self, options: VoiceOptions) -> None:
        """Refuse now, before anything is recorded, when only the local model may transcribe
        and it cannot: the extra is missing, no model is set, or its folder is not there."""
        if not (options.local or self.assistant.settings.transcription_engine == "local"):
            return
        status = self.engines(None).local_status()
        if status is not None and not status.available:
            raise status.error()

    def local_ready(self) -> bool:
        """The local model may transcribe queued recordings (`omar sync` without a key)."""
        if self.assistant.settings.transcription_engine == "cloud":
            return False
        status = self.engines(None).local_status()
        return status is not None and status.available

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
        engines = self.engines(None if options.offline else self.assistant.chat())
        steps = engines.plan(
            self.assistant.settings.transcription_engine,
            local_only=options.local,
            offline=options.offline,
        )
        if not steps:
            self.store.update_message(message.id, lease=None)  # free for `omar sync`
            return replace(base, queued=True)
        done = self._transcribe(engines, steps, message, stored)
        if isinstance(done, EngineFailed):
            return replace(base, queued=done.retry, error=Problem.of(done.error))
        result = replace(base, **done)
        if on_transcript is not None and result.transcript is not None:
            on_transcript(result.transcript)
        if options.ask and result.transcript:
            asked = self.assistant.ask(
                result.transcript,
                session_id=message.session_id,
                offline=options.offline,
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
        wanted: dict[str, Any] = {
            "language": options.language,
            "model": self.assistant.settings.transcription_model,
            "ask": options.ask,
        }
        if options.local:  # --local: `omar sync` keeps it on this laptop too
            wanted["local_only"] = True
        meta = {
            "kind": RECORDING,
            "audio": {k: v for k, v in facts.to_dict().items() if k != "path"}
            | {"source": Path(facts.path).name},
            "transcription": wanted,
        }
        message = store.add_message(
            session.id, "user", label, status="pending", mode="online", media=(media.sha256,),
            meta=meta,
        )  # fmt: skip
        return message, created

    def _transcribe(
        self, engines: Engines, steps: Sequence[str], message: Message, path: Path
    ) -> dict[str, Any] | EngineFailed:
        """Transcribe a stored recording and record the transcript on its message; a
        failure is recorded too (pending for `omar sync` when a retry or a fix may cure it)."""
        wanted = dict(message.meta.get("transcription") or {})
        language = wanted.get("language")
        model = str(wanted.get("model") or self.assistant.settings.transcription_model)
        facts = _facts_from(message, path)
        got = engines.run(
            steps, path, facts, model=model, language=language,
            vocabulary=self.prompt(language), local_prompt=vocabulary_lead(language or "es"),
        )  # fmt: skip
        if isinstance(got, EngineFailed):
            status = "pending" if got.retry else "failed"
            self.store.update_message(message.id, status=status, error=got.error.message)
            return got
        done = {**wanted, "status": "done", "model": got.model, "latency_ms": got.latency_ms}
        done.update(parts=got.parts, text=got.text, engine=got.engine)
        repeated = runaway_repetition(got.text)
        if repeated:  # kept as the model wrote it, and said: the recording is what to trust
            done["repeated"] = repeated
        meta = {**message.meta, "transcription": done}
        # Asked, the transcript is the next question's text; kept here too, the chat history
        # would hold it twice in a row.
        shown = got.text
        if wanted.get("ask") and got.text:
            shown = _("[voice note, {seconds} s: asked as the next question]").format(
                seconds=round(facts.duration or 0)
            )
        # a transcript is a reviewable item, like an answer: a supervisor approves or corrects it
        self.store.update_message(
            message.id, text=shown, status="answered", error=None, meta=meta, model=got.model,
            latency_ms=got.latency_ms, review=Review(),
        )  # fmt: skip
        return {
            "transcript": got.text,
            "model": got.model,
            "latency_ms": got.latency_ms,
            "parts": got.parts,
            "engine": got.engine,
            "repeated": repeated,
        }

    def complete_queued(self, chat: ChatModel | None) -> tuple[list[SyncItem], OmarError | None]:
        """Transcribe every queued recording, oldest first (`omar sync`); one that asked for
        it is then queued as a question, which the same sync answers.

        Stops at the first failure a retry may cure, as sync does for questions. A recording
        no engine can take now (no key, no local model) stays queued.
        """
        from omar_cli.assistant import SyncItem

        engines = self.engines(chat)
        mode = self.assistant.settings.transcription_engine
        items: list[SyncItem] = []
        for queued in queued_recordings(self.store.pending()):
            wanted = queued.meta.get("transcription") or {}
            steps = engines.plan(mode, local_only=bool(wanted.get("local_only")), offline=False)
            if not steps:
                continue
            message = self.store.claim(queued.id)
            if message is None:
                continue
            path = self.store.media_path(message.media[0])
            done = self._transcribe(engines, steps, message, path)
            if isinstance(done, EngineFailed):
                if done.retry:
                    return items, done.error
                items.append(SyncItem(message.id, message.session_id, "failed", message.text,
                                      error=done.error.message))  # fmt: skip
                continue
            if (message.meta.get("transcription") or {}).get("ask") and done["transcript"]:
                self.store.add_message(
                    message.session_id, "user", done["transcript"], status="pending",
                    mode="online", lease=None, meta={"from_recording": message.id},
                )  # fmt: skip
            items.append(SyncItem(message.id, message.session_id, "transcribed", message.text,
                                  answer=done["transcript"], message_id=message.id,
                                  engine=done["engine"]))  # fmt: skip
        return items, None


#: a unit of 1-12 characters said 8 or more times in a row: no speaker does that, a decoder
#: stuck in a loop does (Whisper's known failure on noise, silence or unclear speech)
_RUNAWAY = re.compile(r"(.{1,12}?)\1{7,}", re.DOTALL)


def runaway_repetition(text: str) -> str | None:
    """The stretch a transcript repeats over and over, shortened; None when there is none."""
    found = _RUNAWAY.search(text)
    if found is None or not found[1].strip(" .,-"):
        return None  # "......" or "- - - -" is punctuation, not a loop
    return found[0] if len(found[0]) <= 40 else found[0][:39] + "…"


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
