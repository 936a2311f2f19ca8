"""Local transcription's logic with a fake WhisperModel: which engine transcribes (auto,
local, cloud, --local), the cloud falling back to this laptop, the engine each transcript
records, `omar sync` without a cloud, the hint when the extra or the model is missing, and
status. The real model is in tests/test_whisper.py."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from audio_fakes import concat, silence, tone, wav_bytes
from conftest import FAKE_KEY
from fake_openai import TRANSCRIPTIONS_PATH, FakeOpenAIServer, unreachable_base_url
from scripted_support import as_json
from typer.testing import CliRunner, Result

from omar_cli.cli.app import app
from omar_cli.errors import ExitCode
from omar_cli.llm import whisper_local
from omar_cli.store import SessionStore
from omar_cli.transcription_engines import (
    LocalSetup,
    engine_label,
    is_model_folder,
    local_status,
    plan,
)

Run = Callable[..., Result]
#: the real loader (imports faster_whisper), before the fixture below replaces it
REAL_MODEL_CLASS = whisper_local._whisper_model_class


class FakeWhisperModel:
    """Stands in for faster_whisper.WhisperModel: what it was built with and asked."""

    built: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    calls: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    text = " El variador muestra un fallo de sobrecorriente."
    supported_languages = ("es", "en")

    def __init__(self, source: str, **options: Any) -> None:
        FakeWhisperModel.built.append((source, options))

    def transcribe(self, path: str, **options: Any) -> tuple[Iterator[Any], Any]:
        FakeWhisperModel.calls.append((path, options))
        segments = iter([SimpleNamespace(text=self.text)])
        return segments, SimpleNamespace(language=options.get("language"))


@pytest.fixture(autouse=True)
def fake_whisper(monkeypatch: pytest.MonkeyPatch) -> type[FakeWhisperModel]:
    FakeWhisperModel.built, FakeWhisperModel.calls = [], []
    monkeypatch.setattr(whisper_local, "_whisper_model_class", lambda: FakeWhisperModel)
    return FakeWhisperModel


@pytest.fixture
def model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "whisper-base"
    folder.mkdir()
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        (folder / name).write_bytes(b"{}")
    return folder


@pytest.fixture
def omar(knowledge_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("OMAR_TIMEOUT", "2")
    monkeypatch.setenv("OMAR_MAX_RETRIES", "0")

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, list(args))

    return run


@pytest.fixture
def note(tmp_path: Path) -> Path:
    path = tmp_path / "nota.wav"
    path.write_bytes(wav_bytes(concat([silence(0.3), tone(1.5), silence(0.3)])))
    return path


def stored(home: Path, message_id: str) -> Any:
    return SessionStore(home / "data" / "store").get_message(message_id)


def use_local(monkeypatch: pytest.MonkeyPatch, folder: Path, engine: str | None = None) -> None:
    monkeypatch.setenv("OMAR_LOCAL_TRANSCRIPTION_MODEL", str(folder))
    if engine:
        monkeypatch.setenv("OMAR_TRANSCRIPTION_ENGINE", engine)


def use_cloud(monkeypatch: pytest.MonkeyPatch, base_url: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)


# --------------------------------------------------------------------------- the plan


@pytest.mark.parametrize(
    ("mode", "local_only", "offline", "cloud", "ready", "expected"),
    [
        ("auto", False, False, True, True, ("cloud", "local")),
        ("auto", False, False, True, False, ("cloud",)),
        ("auto", False, False, False, True, ("local",)),  # no key: this laptop at once
        ("auto", False, True, True, True, ("local",)),  # --offline sends nothing, local may
        ("auto", False, False, False, False, ()),  # queued for sync, as before
        ("cloud", False, False, True, True, ("cloud",)),
        ("cloud", False, False, False, True, ()),
        ("local", False, False, True, False, ("local",)),  # never the cloud: it says why
        ("cloud", True, False, True, True, ("local",)),  # --local wins over the setting
    ],
)
def test_engine_plan(
    mode: str, local_only: bool, offline: bool, cloud: bool, ready: bool, expected: tuple[str, ...]
) -> None:
    got = plan(mode, local_only=local_only, offline=offline, cloud=cloud, local_ready=ready)
    assert got == expected


def test_a_folder_or_a_name(tmp_path: Path) -> None:
    assert is_model_folder(str(tmp_path)) and is_model_folder("~/modelos/whisper")
    assert is_model_folder("./whisper-base") and is_model_folder("C:\\modelos\\base")
    assert not is_model_folder("base") and not is_model_folder("Systran/faster-whisper-base")


def test_status_is_read_from_the_disk(tmp_path: Path, model_folder: Path) -> None:
    cache = tmp_path / "cache"
    ready = local_status(LocalSetup(str(model_folder), "int8", cache), installed=True)
    assert (ready.available, ready.kind, ready.present) == (True, "folder", True)
    (model_folder / "model.bin").unlink()
    gone = local_status(LocalSetup(str(model_folder), "int8", cache), installed=True)
    assert not gone.available and "model.bin" in (gone.hint or "")
    named = local_status(LocalSetup("base", "int8", cache), installed=True)
    assert (named.available, named.kind, named.present) == (True, "name", False)
    snapshot = cache / "models--Systran--faster-whisper-base" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    (snapshot / "model.bin").write_bytes(b"")
    assert local_status(LocalSetup("base", "int8", cache), installed=True).present is True
    missing = local_status(LocalSetup("base", "int8", cache), installed=False)
    assert not missing.available and "omar-cli[local]" in (missing.hint or "")


# --------------------------------------------------------------------------- the commands


def test_local_transcribes_with_the_lead_prompt_and_records_the_engine(
    omar: Run,
    note: Path,
    model_folder: Path,
    isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_local(monkeypatch, model_folder)
    result = omar("transcribe", str(note), "--local", "--json")
    assert result.exit_code == 0, result.stderr
    doc = as_json(result)
    assert doc["transcript"] == "El variador muestra un fallo de sobrecorriente."
    engine = doc["transcription_engine"]
    assert engine == {
        "name": "faster-whisper", "model": str(model_folder.resolve()),
        "compute_type": "int8", "profile": None, "endpoint": None,
    }  # fmt: skip
    ((source, built),) = FakeWhisperModel.built
    assert source == str(model_folder.resolve()) and built["compute_type"] == "int8"
    ((path, asked),) = FakeWhisperModel.calls
    assert asked["language"] == "es" and asked["initial_prompt"].startswith("Notas de servicio")
    message = stored(isolated_dirs, doc["recording_id"])
    assert Path(path) == SessionStore(isolated_dirs / "data" / "store").media_path(
        message.media[0]
    )  # the stored copy: the recording was kept before it was transcribed
    assert message.meta["transcription"]["engine"] == engine and message.status == "answered"
    assert message.meta["transcription"]["local_only"] is True
    assert engine_label(message.meta) == f"faster-whisper: {model_folder.resolve()}, int8"


def test_auto_falls_back_to_this_laptop_when_the_cloud_is_unreachable(
    omar: Run,
    note: Path,
    model_folder: Path,
    isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cloud(monkeypatch, unreachable_base_url())
    use_local(monkeypatch, model_folder)
    result = omar("transcribe", str(note), "--json")
    assert result.exit_code == 0, result.stderr
    doc = as_json(result)
    assert doc["transcription_engine"]["name"] == "faster-whisper" and doc["error"] is None
    assert "se transcribe en este portátil" in result.stderr
    assert FAKE_KEY not in result.stdout + result.stderr
    shown = omar("review", "show", doc["session_id"])
    assert "transcrito por faster-whisper" in shown.stdout
    report = omar("review", "export", "--format", "markdown")
    assert "Transcrito por: faster-whisper" in report.stdout


def test_auto_uses_the_cloud_when_it_answers_and_records_it(
    omar: Run,
    fake_openai: FakeOpenAIServer,
    note: Path,
    model_folder: Path,
    isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cloud(monkeypatch, fake_openai.base_url)
    use_local(monkeypatch, model_folder)
    fake_openai.enqueue_transcription("Ventilador ruidoso.")
    result = omar("transcribe", str(note), "--json")
    assert result.exit_code == 0, result.stderr
    engine = as_json(result)["transcription_engine"]
    assert engine["name"] == "openai" and engine["model"] == "whisper-1"
    assert engine["profile"] == "default" and engine["endpoint"].startswith("127.0.0.1:")
    assert FakeWhisperModel.built == []  # the local model was never loaded


def test_local_never_sends_the_audio(
    omar: Run,
    fake_openai: FakeOpenAIServer,
    note: Path,
    model_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cloud(monkeypatch, fake_openai.base_url)
    use_local(monkeypatch, model_folder, engine="local")
    result = omar("record-and-transcribe", "--help")
    assert "--local" in result.stdout
    result = omar("transcribe", str(note), "--json")
    assert result.exit_code == 0, result.stderr
    assert as_json(result)["transcription_engine"]["name"] == "faster-whisper"
    assert not [r for r in fake_openai.requests if r.path == TRANSCRIPTIONS_PATH]


def test_without_the_extra_a_hint_and_exit_8_before_anything_is_stored(
    omar: Run,
    note: Path,
    model_folder: Path,
    isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(whisper_local, "_whisper_model_class", REAL_MODEL_CLASS)
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # import faster_whisper fails
    use_local(monkeypatch, model_folder)
    result = omar("transcribe", str(note), "--local")
    assert result.exit_code == ExitCode.LOCAL_MODEL == 8
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "omar: error: la transcripción local no está instalada",
        "omar: sugerencia: instálela con: pip install 'omar-cli[local]'",
    ]
    assert SessionStore(isolated_dirs / "data" / "store").stats().messages == 0
    status = as_json(omar("status", "--no-check", "--json"))["local_transcription"]
    assert (status["installed"], status["available"], status["present"]) == (False, False, True)


def test_no_model_configured_is_said_before_recording(
    omar: Run, isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMAR_LANGUAGE", "en")
    result = omar("record-and-transcribe", "--local", "--seconds", "1", "--json")
    assert result.exit_code == ExitCode.LOCAL_MODEL
    doc = as_json(result)
    assert doc["error"]["message"] == "no local transcription model is configured"
    assert "local_transcription_model" in doc["error"]["hint"]
    assert not (isolated_dirs / "data" / "recordings").exists()  # nothing was recorded


def test_a_broken_model_folder_keeps_the_recording_queued(
    omar: Run,
    note: Path,
    model_folder: Path,
    isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(source: str, **options: Any) -> None:
        raise RuntimeError("Unable to open file 'model.bin' in model")

    monkeypatch.setattr(whisper_local, "_whisper_model_class", lambda: broken)
    use_local(monkeypatch, model_folder)
    result = omar("transcribe", str(note), "--local", "--json")
    assert result.exit_code == ExitCode.LOCAL_MODEL
    doc = as_json(result)
    assert doc["queued"] is True and "model.bin" in doc["error"]["message"]
    message = stored(isolated_dirs, doc["recording_id"])
    assert message.status == "pending" and message.media  # kept for `omar sync`


def test_sync_without_a_cloud_transcribes_queued_notes_here(
    omar: Run,
    note: Path,
    model_folder: Path,
    isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = as_json(omar("transcribe", str(note), "--json"))
    assert first["queued"] is True  # no key, no local model: waits, as before
    assert omar("sync").exit_code == ExitCode.NO_API_KEY
    use_local(monkeypatch, model_folder)
    synced = omar("sync", "--json")
    assert synced.exit_code == 0, synced.stderr
    (item,) = as_json(synced)["items"]
    assert item["status"] == "transcribed" and item["engine"]["name"] == "faster-whisper"
    assert stored(isolated_dirs, first["recording_id"]).status == "answered"
    # a voice note asked as a question waits for a key after its transcript
    assert omar("transcribe", str(note), "--offline", "--ask").exit_code == 0
    monkeypatch.setenv("OMAR_TRANSCRIPTION_ENGINE", "cloud")
    assert omar("sync").exit_code == ExitCode.NO_API_KEY  # cloud only: nothing local


def test_sync_keeps_a_local_only_note_off_the_cloud(
    omar: Run,
    fake_openai: FakeOpenAIServer,
    note: Path,
    model_folder: Path,
    isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(source: str, **options: Any) -> None:
        raise OSError("disk unplugged")

    use_local(monkeypatch, model_folder)
    monkeypatch.setattr(whisper_local, "_whisper_model_class", lambda: broken)
    doc = as_json(omar("transcribe", str(note), "--local", "--json"))
    assert doc["queued"] is True
    monkeypatch.setattr(whisper_local, "_whisper_model_class", lambda: FakeWhisperModel)
    use_cloud(monkeypatch, fake_openai.base_url)
    synced = omar("sync", "--json")
    assert synced.exit_code == 0, synced.stderr
    assert as_json(synced)["items"][0]["engine"]["name"] == "faster-whisper"
    assert not [r for r in fake_openai.requests if r.path == TRANSCRIPTIONS_PATH]


def test_status_says_whether_local_transcription_is_ready_without_loading(
    omar: Run, model_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_local(monkeypatch, model_folder)
    doc = as_json(omar("status", "--no-check", "--json"))["local_transcription"]
    assert doc["available"] and doc["kind"] == "folder" and doc["engine"] == "auto"
    assert FakeWhisperModel.built == []
    text = omar("status", "--no-check").stdout
    assert "transcripción local" in text and "disponible: carpeta" in text
    shown = omar("config", "show", "--json")
    settings = as_json(shown)["settings"]
    assert settings["local_transcription_model"]["value"] == str(model_folder)
    assert settings["local_compute_type"]["value"] == "int8"
    assert omar("config", "set", "transcription_engine", "nube").exit_code == ExitCode.CONFIG


def test_a_model_folder_set_by_a_relative_path_holds_from_any_folder(
    omar: Run, model_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(model_folder.parent)
    assert omar("config", "set", "local_transcription_model", model_folder.name).exit_code == 0
    monkeypatch.chdir("/")
    shown = as_json(omar("config", "show", "--json"))["settings"]
    assert shown["local_transcription_model"]["value"] == str(model_folder.resolve())
    assert as_json(omar("status", "--no-check", "--json"))["local_transcription"]["available"]
