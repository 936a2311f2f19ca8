"""Transcription on the laptop itself: Whisper through faster-whisper (CTranslate2).

The adapter of the optional `local` extra. faster-whisper is imported only here, and only
when a recording is transcribed, so start-up never pays for it (nor for numpy, PyAV or
onnxruntime behind it). Every failure leaves as an OmarError: ``LocalModelError`` when the
extra is missing or the model cannot be found, fetched or loaded; ``InputError`` when the
audio cannot be decoded; ``UsageError`` for a language the model does not know.

The model is a CTranslate2 Whisper folder (``model.bin``, ``config.json``, ``tokenizer.json``,
``vocabulary.*``) or a model name (``base``, ``small``, ``Systran/faster-whisper-base``)
that faster-whisper fetches into OMAR's cache folder while online; a fetched model is read
from that cache first, so once fetched it needs no network.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omar_cli.errors import InputError, LocalModelError, UsageError
from omar_cli.i18n import _
from omar_cli.llm.model import Transcript
from omar_cli.transcription_engines import (
    ENGINE_LOCAL,
    LocalSetup,
    LocalStatus,
    install_hint,
    local_status,
)

#: Whisper's own beam width (faster-whisper's default): greedy decoding misses words
BEAM_SIZE = 5
#: recordings longer than this go through the voice detector first
VAD_ABOVE_SECONDS = 30.0


class LocalWhisper:
    """Transcribes audio files with faster-whisper; the model is loaded on first use, once.

    ``model_class`` stands in for ``faster_whisper.WhisperModel`` in tests.
    """

    def __init__(self, setup: LocalSetup, *, model_class: Callable[..., Any] | None = None) -> None:
        self.setup = setup
        self._model_class = model_class
        self._model: Any = None

    @property
    def engine(self) -> dict[str, Any]:
        """What a transcript records as its engine."""
        return {
            "name": ENGINE_LOCAL,
            "model": self.setup.model,
            "compute_type": self.setup.compute_type,
            "profile": None,
            "endpoint": None,
        }

    def status(self) -> LocalStatus:
        return local_status(self.setup, installed=True if self._model_class else None)

    def transcribe_file(
        self, path: Path, *, language: str | None = None, prompt: str | None = None
    ) -> Transcript:
        started = time.monotonic()
        model = self._load()
        supported = getattr(model, "supported_languages", None)
        if language and supported and language not in supported:
            raise UsageError(
                _("the local model does not know the language {lang!r}").format(lang=language),
                hint=_("use a two-letter code such as es or en"),
            )
        try:
            segments, info = model.transcribe(
                str(path),
                language=language or None,
                initial_prompt=prompt or None,
                beam_size=BEAM_SIZE,
                without_timestamps=True,  # a note needs no timings; about 20 % faster
                # A long note's pauses are skipped (Whisper invents text over silence); a
                # short one skips the detector's fixed cost of about a second.
                vad_filter=_duration(path) > VAD_ABOVE_SECONDS,
            )
            text = " ".join(s.text.strip() for s in segments if s.text.strip())
        except RuntimeError as exc:  # CTranslate2 itself (out of memory, a broken model.bin)
            raise LocalModelError(
                _("the local Whisper model failed: {reason}").format(reason=_first_line(exc)),
                hint=_("check local_transcription_model and local_compute_type (omar status)"),
            ) from None
        except _decode_errors() as exc:
            raise _decode_failure(path, exc) from None
        return Transcript(
            text=text,
            model=self.setup.model or "",
            language=getattr(info, "language", None) or language,
            latency_ms=round((time.monotonic() - started) * 1000),
        )

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        status = self.status()
        if not status.available:
            raise status.error()
        model_class = self._model_class or _whisper_model_class()
        setup = self.setup
        name = setup.model or ""
        if setup.is_path:
            self._model = _open(model_class, setup, str(setup.folder), local_files_only=True)
        else:
            # a fetched model is read from the cache first: no network when it is there
            try:
                self._model = _open(model_class, setup, name, local_files_only=True)
            except LocalModelError:
                self._model = _open(model_class, setup, name, local_files_only=False)
        return self._model


def _whisper_model_class() -> Callable[..., Any]:
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise LocalModelError(
            _("local transcription is not installed ({reason})").format(reason=exc),
            hint=install_hint(),
        ) from None
    return WhisperModel  # type: ignore[no-any-return]


def _open(
    model_class: Callable[..., Any], setup: LocalSetup, source: str, *, local_files_only: bool
) -> Any:
    try:
        return model_class(
            source,
            device="cpu",
            compute_type=setup.compute_type,
            download_root=str(setup.download_root),
            local_files_only=local_files_only,
        )
    except (OSError, ValueError, RuntimeError) as exc:
        reason = _first_line(exc)
        if setup.is_path:
            raise LocalModelError(
                _("cannot load the local Whisper model in {path}: {reason}").format(
                    path=setup.folder, reason=reason
                ),
                hint=_(
                    "the folder needs model.bin, config.json, tokenizer.json and vocabulary "
                    "of a CTranslate2 Whisper model (see the README, Local transcription)"
                ),
            ) from None
        raise LocalModelError(
            _("cannot fetch the local Whisper model {name!r}: {reason}").format(
                name=setup.model, reason=reason
            ),
            hint=_(
                "a model name is fetched once while online; offline, set "
                "local_transcription_model to a model folder"
            ),
        ) from None


def _duration(path: Path) -> float:
    """The length libsndfile reads from the header; 0 when it cannot (m4a: no detector)."""
    import soundfile

    try:
        return float(soundfile.info(str(path)).duration)
    except (RuntimeError, OSError, ValueError):  # soundfile.LibsndfileError is a RuntimeError
        return 0.0


def _decode_errors() -> tuple[type[BaseException], ...]:
    """What reading and decoding the file (PyAV) raise."""
    errors: list[type[BaseException]] = [OSError, ValueError]
    try:
        from av.error import FFmpegError

        errors.append(FFmpegError)
    except ImportError:
        pass
    return tuple(errors)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _decode_failure(path: Path, exc: BaseException) -> InputError:
    return InputError(
        _("the local model could not read {file}: {reason}").format(
            file=path.name, reason=_first_line(exc)
        ),
        hint=_("check that the file plays; convert it with: ffmpeg -i FILE nota.wav"),
    )
