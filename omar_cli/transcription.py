"""Voice notes through the assistant core: stored first, transcribed, queued when offline.

A recording (made by ``audio.Recorder`` or given as a file) is stored in the session before
anything is sent: the audio content-addressed beside the database, and a user message that
refers to it (``meta.kind == "recording"``). Then it is transcribed by the core's
``ChatModel`` with the ACS150 vocabulary as the prompt, so codes come out as "F0001" and
"2202". The transcript becomes the message's text; with ``ask`` it is then asked as a
question, grounded like `omar ask`. When the endpoint cannot be reached the message stays
pending, and `omar sync` transcribes it (and asks it) later: see ``complete_queued``.

A silent recording is refused before it is stored or sent. A file over the API's upload
limit is re-encoded as FLAC, and if that is still too big, cut into FLAC parts whose
transcripts are joined (``upload_clips``).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omar_cli.audio import MIN_SOUND_SECONDS, SPEECH_DBFS, level_dbfs
from omar_cli.errors import ApiError, AuthError, InputError, OmarError
from omar_cli.i18n import _
from omar_cli.llm.model import AudioClip

if TYPE_CHECKING:
    from omar_cli.assistant import AskResult, Assistant, SyncItem
    from omar_cli.audio import Recording
    from omar_cli.knowledge.model import Entry
    from omar_cli.llm.model import ChatModel
    from omar_cli.store import Message

#: the formats the transcription endpoint takes, by file suffix
ACCEPTED_SUFFIXES = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
#: the endpoint refuses uploads over 25 MB; kept under it with room for the form around it
MAX_UPLOAD_BYTES = 25 * 1000 * 1000
#: Whisper reads only the last 224 tokens of a prompt: codes and names cost ~3 chars a token
MAX_PROMPT_CHARS = 640
#: how much of the previous part's transcript leads the next part's prompt
CARRY_CHARS = 200
RECORDING = "recording"
_LEADS = {
    "es": "Notas de servicio de un variador ABB ACS150: fallo F0001, alarma A2010, parámetro 2202.",
    "en": "Service notes on an ABB ACS150 drive (variador): fault F0001, alarm A2010, "
    "parameter 2202.",
}
_WORDS = {"es": ("Fallos", "Parámetros", "Alarmas"), "en": ("Faults", "Parameters", "Alarms")}
#: each kind's share of the prompt after the lead
_SHARES = {"fault": 0.5, "parameter": 0.38, "alarm": 0.12}


@dataclass(frozen=True)
class AudioFacts:
    """What is known of an audio file; levels only for what libsndfile can decode."""

    path: str
    sha256: str
    bytes: int
    format: str  # the suffix: wav, flac, mp3...
    duration: float | None
    sample_rate: int | None
    channels: int | None
    peak_dbfs: float | None = None
    sound_seconds: float | None = None

    @property
    def silent(self) -> bool:
        return self.sound_seconds is not None and self.sound_seconds < MIN_SOUND_SECONDS

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "silent": self.silent}


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
    error: OmarError | None = field(default=None, compare=False)

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


# --------------------------------------------------------------------------- the prompt


def vocabulary_prompt(entries: Iterable[Entry], lang: str) -> str:
    """The drive's words for Whisper: a lead sentence, then fault, alarm and parameter
    codes with their panel names, each kind within its share of MAX_PROMPT_CHARS (what the
    model reads), so parameters are not crowded out by faults."""
    lead = _LEADS.get(lang, _LEADS["en"])
    labels = dict(zip(_SHARES, _WORDS.get(lang, _WORDS["en"]), strict=True))
    by_kind: dict[str, list[str]] = {kind: [] for kind in _SHARES}
    for entry in sorted(entries, key=lambda e: e.id):
        if entry.kind in by_kind:
            name = re.sub(r"\s*\([^)]*\)", "", entry.name).strip()
            by_kind[entry.kind].append(f"{entry.id} {name}" if name else entry.id)
    room = MAX_PROMPT_CHARS - len(lead)
    parts = [lead]
    for kind, share in _SHARES.items():
        budget = int(room * share) - len(labels[kind]) - 4
        taken: list[str] = []
        for item in by_kind[kind]:
            if sum(len(t) + 2 for t in taken) + len(item) > budget:
                break
            taken.append(item)
        if taken:
            parts.append(f"{labels[kind]}: {', '.join(taken)}.")
    return " ".join(parts)


# --------------------------------------------------------------------------- files


def check_suffix(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ACCEPTED_SUFFIXES:
        raise InputError(
            _("{path}: not an audio format the transcription takes").format(path=path),
            hint=_("use one of: {formats}").format(formats=", ".join(ACCEPTED_SUFFIXES)),
        )
    return suffix


def inspect_file(path: Path) -> AudioFacts:
    """Size, hash, and, where libsndfile decodes the format, length and sound level (read a
    block at a time: a long file costs no memory)."""
    suffix = check_suffix(path)
    try:
        digest, size = _sha256_of(path)
    except OSError as exc:
        raise InputError(
            _("cannot read {path}: {reason}").format(path=path, reason=exc.strerror or exc),
            hint=_("check the file's path"),
        ) from None
    if size == 0:
        raise InputError(_("{path}: the file is empty").format(path=path))
    facts = AudioFacts(str(path), digest, size, suffix, None, None, None)
    import soundfile

    try:
        with soundfile.SoundFile(path) as sf:
            rate, channels = sf.samplerate, sf.channels
            peak, sound, frames = -120.0, 0, 0
            for block in sf.blocks(blocksize=rate // 10, dtype="int16", always_2d=True):
                level = level_dbfs(block.mean(axis=1) if channels > 1 else block)
                peak = max(peak, level)
                sound += len(block) if level >= SPEECH_DBFS else 0
                frames += len(block)
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        return facts  # mp4, m4a, webm: the endpoint decodes them, we cannot
    return replace(
        facts,
        duration=frames / rate,
        sample_rate=rate,
        channels=channels,
        peak_dbfs=round(peak, 1),
        sound_seconds=sound / rate,
    )


def facts_of_recording(recording: Recording) -> AudioFacts:
    """The facts of a file the recorder just wrote: its levels are the meter's."""
    digest, size = _sha256_of(recording.path)
    return AudioFacts(
        path=str(recording.path),
        sha256=digest,
        bytes=size,
        format="wav",
        duration=recording.duration,
        sample_rate=recording.sample_rate,
        channels=1,
        peak_dbfs=round(recording.peak_dbfs, 1),
        sound_seconds=recording.sound_seconds,
    )


def _sha256_of(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def upload_clips(
    path: Path, facts: AudioFacts, limit: int = MAX_UPLOAD_BYTES
) -> Iterator[AudioClip]:
    """What is sent for ``path``: the file itself when it fits the upload limit; otherwise
    FLAC (speech compresses to about half), and if that does not fit either, FLAC parts as
    long as the whole's compression allows; a part that compresses worse than the whole is
    cut again into parts whose raw samples fit the limit (so each surely does)."""
    if facts.bytes <= limit:
        yield AudioClip(path.read_bytes(), path.name)
        return
    if facts.sample_rate is None:
        raise InputError(
            _("{path}: too large to send ({size} MB; at most {limit} MB)").format(
                path=path, size=round(facts.bytes / 1e6), limit=limit // 1_000_000
            ),
            hint=_("convert it to WAV or FLAC, which can be split: ffmpeg -i FILE note.flac"),
        )
    import soundfile

    stem = path.stem
    with soundfile.SoundFile(path) as sf:
        whole_size = len(_flac(_blocks(sf, 0, sf.frames), sf))
        if whole_size <= limit:
            sf.seek(0)
            yield AudioClip(_flac(_blocks(sf, 0, sf.frames), sf), f"{stem}.flac")
            return
        safe = max(sf.samplerate, int(limit * 0.95) // 2)  # mono 16-bit: 2 bytes a frame
        span = max(safe, int(limit * 0.9 * sf.frames / whole_size))
        number = 0
        for start in range(0, sf.frames, span):
            stop = min(start + span, sf.frames)
            part = _flac(_blocks(sf, start, stop), sf)
            pieces = [part] if len(part) <= limit else [
                _flac(_blocks(sf, at, min(at + safe, stop)), sf) for at in range(start, stop, safe)
            ]  # fmt: skip
            for piece in pieces:
                number += 1
                yield AudioClip(piece, f"{stem}-part{number:02d}.flac")


def _blocks(sf: Any, start: int, stop: int) -> Iterator[Any]:
    """Frames ``start`` to ``stop`` of an open SoundFile, a second at a time, int16 2-D."""
    sf.seek(start)
    left = stop - start
    while left > 0:
        block = sf.read(min(sf.samplerate, left), dtype="int16", always_2d=True)
        if not len(block):
            return
        left -= len(block)
        yield block


def _flac(blocks: Iterable[Any], source: Any) -> bytes:
    """Mono 16-bit FLAC of ``blocks`` (channels averaged)."""
    import soundfile

    out = io.BytesIO()
    with soundfile.SoundFile(
        out, "w", samplerate=source.samplerate, channels=1, format="FLAC", subtype="PCM_16"
    ) as flac:
        for block in blocks:
            flac.write(block.mean(axis=1).astype("int16") if source.channels > 1 else block)
    return out.getvalue()


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
            raise InputError(
                _("the recording is silent (loudest {peak} dBFS): nothing was sent").format(
                    peak=facts.peak_dbfs
                ),
                hint=_("check that the microphone is not muted, or pick it with --device"),
            )
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
            return replace(base, queued=queued, error=exc)
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
            "audio": facts.to_dict() | {"path": None, "source": Path(facts.path).name},
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
        done["parts"] = len(texts)
        meta = {**message.meta, "transcription": done}
        self.store.update_message(
            message.id, text=transcript, status="answered", error=None, meta=meta, model=model,
            latency_ms=latency,
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


def _worth_retrying(exc: ApiError) -> bool:
    return exc.retryable or isinstance(exc, AuthError)
