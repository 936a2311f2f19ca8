"""Which engine transcribes a voice note: the cloud (the chat endpoint's speech model) or
Whisper on this laptop (faster-whisper, the optional `local` extra), and in what order.

``transcription_engine`` says when the local model is used: ``auto`` (the cloud first, this
laptop's model when the cloud cannot be reached, times out, refuses or has no key), ``local``
(only this laptop: the audio never leaves it) or ``cloud``. ``--local`` forces ``local`` for
one recording, and the recording remembers it, so `omar sync` does the same.

``Engines.run`` tries the plan in order and returns what transcribed it (``EngineDone``,
with the engine recorded as ``engine``) or why nothing did (``EngineFailed``). Nothing here
imports faster-whisper: whether it is installed and where the model is are read from the
disk (``local_status``), so `omar status` says it without loading the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from omar_cli.errors import (
    ApiError,
    Interrupted,
    LocalModelError,
    NoApiKeyError,
    OmarError,
    worth_retrying,
)
from omar_cli.i18n import _

if TYPE_CHECKING:
    from omar_cli.audio_files import AudioFacts
    from omar_cli.llm.model import ChatModel, Transcript
    from omar_cli.settings import Settings

ENGINE_LOCAL = "faster-whisper"
ENGINE_CLOUD = "openai"
#: how much of the previous part's transcript leads the next part's prompt
CARRY_CHARS = 200
#: the files of a CTranslate2 Whisper model folder (vocabulary.txt or vocabulary.json)
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")


def install_hint() -> str:
    return _("install it with: pip install 'omar-cli[local]'")


@dataclass(frozen=True)
class LocalSetup:
    """The local model as configured: a folder or a name, its compute type, and where a
    named model is fetched to."""

    model: str | None
    compute_type: str
    download_root: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalSetup:
        model = settings.local_transcription_model
        if model and is_model_folder(model):
            model = str(Path(model).expanduser().resolve())
        return cls(model, settings.local_compute_type, settings.paths.cache / "whisper")

    @property
    def is_path(self) -> bool:
        return bool(self.model) and is_model_folder(self.model or "")

    @property
    def folder(self) -> Path:
        return Path(self.model or "").expanduser()


def is_model_folder(value: str) -> bool:
    """A folder path rather than a model name: an existing folder, or written as a path
    (absolute, ~, ./, a drive, backslashes, two or more /). ``base`` and
    ``Systran/faster-whisper-base`` are names."""
    if Path(value).expanduser().is_dir():
        return True
    return (
        value.startswith(("/", "~", "."))
        or "\\" in value
        or re.match(r"[A-Za-z]:", value) is not None
        or value.count("/") > 1
    )


@dataclass(frozen=True)
class LocalStatus:
    installed: bool
    model: str | None
    kind: str | None  # "folder" or "name"
    #: the folder holds the model / the named model is in the cache; None: nothing configured
    present: bool | None
    compute_type: str
    problem: str | None = None
    hint: str | None = None

    @property
    def available(self) -> bool:
        return self.problem is None

    def error(self) -> LocalModelError:
        return LocalModelError(self.problem or "", hint=self.hint)

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "available": self.available}


def extra_installed() -> bool:
    """faster-whisper can be imported (found on the path, not imported)."""
    import importlib.util

    try:
        return importlib.util.find_spec("faster_whisper") is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules: blocked
        return False


def local_status(setup: LocalSetup, *, installed: bool | None = None) -> LocalStatus:
    """Whether this laptop can transcribe, read from the disk: the model is not loaded."""
    installed = extra_installed() if installed is None else installed
    status = LocalStatus(installed, setup.model, None, None, setup.compute_type)
    if not setup.model:
        return replace(
            status,
            problem=_("no local transcription model is configured"),
            hint=_("omar config set local_transcription_model FOLDER (or a name such as base)"),
        )
    if setup.is_path:
        present = all((setup.folder / name).is_file() for name in MODEL_FILES)
        status = replace(status, kind="folder", present=present)
        if not present:
            status = replace(
                status,
                problem=_("no Whisper model in {path}").format(path=setup.folder),
                hint=_("the folder needs model.bin, config.json, tokenizer.json and vocabulary "
                       "of a CTranslate2 Whisper model (see the README, Local transcription)"),
            )  # fmt: skip
    else:
        status = replace(status, kind="name", present=_fetched(setup))
    if not installed:  # said first: installing is the first step
        status = replace(
            status, problem=_("local transcription is not installed"), hint=install_hint()
        )
    return status


def _fetched(setup: LocalSetup) -> bool:
    """A named model already in the cache (Hugging Face's layout: models--ORG--NAME)."""
    name = (setup.model or "").replace("/", "--")
    pattern = f"models--{name}" if "--" in name else f"models--*--*whisper-{name}"
    return any(setup.download_root.glob(f"{pattern}/snapshots/*/model.bin"))


class LocalTranscriber(Protocol):
    """Whisper on this laptop (``omar_cli.llm.whisper_local.LocalWhisper``)."""

    @property
    def engine(self) -> dict[str, Any]: ...

    def status(self) -> LocalStatus: ...

    def transcribe_file(
        self, path: Path, *, language: str | None = None, prompt: str | None = None
    ) -> Transcript: ...


def plan(
    mode: str, *, local_only: bool, offline: bool, cloud: bool, local_ready: bool
) -> tuple[str, ...]:
    """The engines to try, in order; empty: the recording waits for `omar sync`.

    ``cloud``: a chat endpoint is configured; ``local_ready``: the local model is set and
    installed. ``offline`` keeps the cloud out (nothing is sent), not this laptop."""
    if local_only or mode == "local":
        return ("local",)
    engines = ["cloud"] if cloud and not offline else []
    if mode == "auto" and local_ready:
        engines.append("local")
    return tuple(engines)


@dataclass(frozen=True)
class EngineDone:
    text: str
    latency_ms: int
    parts: int
    model: str
    #: what transcribed it: name, model, compute_type (local), profile and endpoint (cloud)
    engine: dict[str, Any]


@dataclass(frozen=True)
class EngineFailed:
    error: OmarError
    #: the recording stays queued for `omar sync` (a retry or a fix may cure it)
    retry: bool


class Engines:
    """Runs a plan for one recording after another (one `omar sync`): once the cloud
    could not be reached, the next recordings go straight to the local model."""

    def __init__(
        self,
        chat: ChatModel | None,
        local: Callable[[], LocalTranscriber] | None,
        *,
        upload_limit: int,
        on_fallback: Callable[[str], None] | None = None,
    ) -> None:
        self.chat = chat
        self._local_factory = local
        self._local: LocalTranscriber | None = None
        self.upload_limit = upload_limit
        self.on_fallback = on_fallback
        self._cloud_down = False

    def local(self) -> LocalTranscriber | None:
        if self._local is None and self._local_factory is not None:
            self._local = self._local_factory()
        return self._local

    def local_status(self) -> LocalStatus | None:
        local = self.local()
        return local.status() if local is not None else None

    def plan(self, mode: str, *, local_only: bool, offline: bool) -> tuple[str, ...]:
        status = self.local_status()
        steps = plan(
            mode, local_only=local_only, offline=offline, cloud=self.chat is not None,
            local_ready=status is not None and status.available,
        )  # fmt: skip
        if self._cloud_down and "local" in steps:
            return ("local",)
        return steps

    def run(
        self,
        steps: Sequence[str],
        path: Path,
        facts: AudioFacts,
        *,
        model: str,
        language: str | None,
        vocabulary: str,
        local_prompt: str,
    ) -> EngineDone | EngineFailed:
        """``vocabulary``: the cloud's prompt; ``local_prompt``: the local model's."""
        failures: list[tuple[str, OmarError]] = []
        for step in steps:
            try:
                if step == "cloud":
                    return self._cloud(path, facts, model, language, vocabulary)
                return self._local_run(path, language, local_prompt)
            except Interrupted:
                raise
            except OmarError as exc:  # this engine failed; an InputError too (local decodes
                # files the cloud refuses, and the cloud takes some local cannot decode)
                failures.append((step, exc))
                self._cloud_down = self._cloud_down or (step == "cloud" and _unreachable(exc))
                if step != steps[-1] and self.on_fallback is not None:
                    self.on_fallback(
                        _("the cloud did not transcribe it ({why}); transcribing on this "
                          "laptop").format(why=exc.message)
                    )  # fmt: skip
        if "local" not in steps and failures and self._local_factory is not None:
            self._say_why_not_local()
        return _failed(failures)

    def _cloud(
        self, path: Path, facts: AudioFacts, model: str, language: str | None, vocabulary: str
    ) -> EngineDone:
        from omar_cli.audio_files import upload_clips

        chat = self.chat
        if chat is None:
            raise NoApiKeyError(_("no API key configured"))
        texts: list[str] = []
        latency = 0
        got: Transcript | None = None
        for clip in upload_clips(path, facts, self.upload_limit):
            carry = texts[-1][-CARRY_CHARS:] if texts else ""
            prompt = f"{vocabulary} {carry}".strip()
            got = chat.transcribe(clip, model=model, language=language, prompt=prompt)
            texts.append(got.text.strip())
            latency += got.latency_ms
        used = got.model if got is not None and got.model else model
        engine = {
            "name": ENGINE_CLOUD, "model": used, "compute_type": None,
            "profile": got.profile if got is not None else None,
            "endpoint": (got.host if got is not None else None) or chat.host,
        }  # fmt: skip
        text = " ".join(t for t in texts if t)
        return EngineDone(text, latency, len(texts), used, engine)

    def _local_run(self, path: Path, language: str | None, prompt: str) -> EngineDone:
        local = self.local()
        if local is None:  # pragma: no cover - a plan names local only with a factory
            raise LocalModelError(_("local transcription is not installed"), hint=install_hint())
        # one file, whatever its size: the upload limit is the cloud's
        got = local.transcribe_file(path, language=language, prompt=prompt)
        engine = local.engine
        return EngineDone(got.text.strip(), got.latency_ms, 1, str(engine["model"]), engine)

    def _say_why_not_local(self) -> None:
        status = self.local_status()
        if self.on_fallback is None or status is None or status.model is None:
            return  # no local model configured: nothing was expected of it
        if not status.available:
            self.on_fallback(
                _("not transcribed on this laptop either: {why} ({hint})").format(
                    why=status.problem, hint=status.hint
                )
            )


def engine_label(meta: Mapping[str, Any]) -> str | None:
    """What transcribed a stored recording, in one line ("faster-whisper: base, int8"), or
    None for a message no engine transcribed (or one stored before engines were recorded)."""
    engine = (meta.get("transcription") or {}).get("engine")
    if not isinstance(engine, Mapping) or not engine.get("name"):
        return None
    details = [engine.get("model"), engine.get("compute_type")]
    if engine.get("profile"):
        details.append(_("profile {name}").format(name=engine["profile"]))
    details.append(engine.get("endpoint"))
    said = ", ".join(str(d) for d in details if d)
    return f"{engine['name']}: {said}" if said else str(engine["name"])


def _unreachable(exc: OmarError) -> bool:
    return isinstance(exc, NoApiKeyError) or (isinstance(exc, ApiError) and exc.retryable)


def _failed(failures: Sequence[tuple[str, OmarError]]) -> EngineFailed:
    """The last failure, its message naming each engine tried (like a profile chain's)."""
    if not failures:  # pragma: no cover - run() is never given an empty plan
        raise ValueError("no engine was tried")
    last = failures[-1][1]
    if len(failures) > 1:
        names = {"cloud": _("cloud"), "local": _("this laptop")}
        said = "; ".join(f"{names[step]}: {exc.message}" for step, exc in failures)
        last.message = _("the recording was not transcribed ({failures})").format(failures=said)
        last.args = (last.message,)
    return EngineFailed(last, retry=any(worth_retrying(exc) for _step, exc in failures))
