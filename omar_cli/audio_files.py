"""Audio files for transcription: what they hold, what is sent, and the prompt sent along.

``inspect_file`` reads a file's size, hash, length and sound level (a block at a time);
``upload_clips`` makes what fits the endpoint's upload limit (the file itself, FLAC, or FLAC
parts); ``vocabulary_prompt`` gives Whisper the drive's words so codes come out right.
numpy and soundfile are imported inside the functions.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omar_cli.audio import MIN_SOUND_SECONDS, SPEECH_DBFS, level_dbfs
from omar_cli.errors import InputError
from omar_cli.i18n import _
from omar_cli.llm.model import AudioClip

if TYPE_CHECKING:
    from omar_cli.audio import Recording
    from omar_cli.knowledge.model import Entry

#: the formats the transcription endpoint takes, by file suffix
ACCEPTED_SUFFIXES = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
#: the endpoint refuses uploads over 25 MB; kept under it with room for the form around it
MAX_UPLOAD_BYTES = 25 * 1000 * 1000
#: Whisper reads only the last 224 tokens of a prompt: codes and names cost ~3 chars a token
MAX_PROMPT_CHARS = 640
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


# --------------------------------------------------------------------------- the prompt


def vocabulary_lead(lang: str) -> str:
    """The prompt's lead sentence alone, for a small local Whisper model: given the whole
    list of codes and English panel names, Whisper base copies the list instead of
    transcribing (measured on espeak-ng speech; see transcription_engines)."""
    return _LEADS.get(lang, _LEADS["en"])


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
