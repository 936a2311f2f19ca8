"""`omar transcribe` and the transcription flow: what reaches the (fake) OpenAI server through
the real client, failures handled like ask's, the queue and sync, and the upload limit."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
import soundfile
from audio_fakes import concat, noise, silence, tone, wav_bytes
from conftest import FAKE_KEY
from fake_openai import TRANSCRIPTIONS_PATH, FakeOpenAIServer, unreachable_base_url
from scripted_support import as_json, scripted_services
from typer.testing import CliRunner, Result

from omar_cli.cli.app import app
from omar_cli.errors import ExitCode
from omar_cli.knowledge.loader import builtin_dir, load_entries
from omar_cli.llm.scripted import ScriptedModel
from omar_cli.store import SessionStore
from omar_cli.transcription import (
    MAX_PROMPT_CHARS,
    VoiceNotes,
    VoiceOptions,
    inspect_file,
    vocabulary_prompt,
)

Run = Callable[..., Result]


@pytest.fixture
def omar(
    fake_openai: FakeOpenAIServer, knowledge_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> Run:
    monkeypatch.setenv("OMAR_CACHE_DIR", str(knowledge_cache))
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OMAR_TIMEOUT", "2")
    monkeypatch.setenv("OMAR_MAX_RETRIES", "0")

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, list(args))

    return run


@pytest.fixture
def note(tmp_path: Path) -> Path:
    path = tmp_path / "nota.wav"
    path.write_bytes(wav_bytes(concat([silence(0.5), tone(2), silence(0.5)])))
    return path


def store(home: Path) -> SessionStore:
    return SessionStore(home / "data" / "store")


def test_the_request_carries_file_model_language_and_vocabulary(
    omar: Run, fake_openai: FakeOpenAIServer, note: Path, isolated_dirs: Path
) -> None:
    fake_openai.enqueue_transcription("El variador marca F0001.")
    result = omar("transcribe", str(note), "--json")
    assert result.exit_code == 0, result.stderr
    sent = fake_openai.last_request
    assert sent.path == TRANSCRIPTIONS_PATH and sent.bearer_token == FAKE_KEY
    assert sent.form["model"] == "whisper-1" and sent.form["language"] == "es"
    prompt = sent.form["prompt"]
    assert "variador" in prompt and "F0001 OVERCURRENT" in prompt and "Parámetros:" in prompt
    # the stored copy's name (its sha256): the suffix names the format, the user's name stays
    assert sent.files["file"].filename == f"{inspect_file(note).sha256}.wav"
    assert sent.files["file"].data == note.read_bytes()
    doc = as_json(result)
    assert doc["transcript"] == "El variador marca F0001." and doc["ok"] is True
    assert (doc["duration_s"], doc["sample_rate"]) == (3.0, 16000)
    assert doc["file_size"] == note.stat().st_size and doc["queued"] is False
    (message,) = store(isolated_dirs).messages(doc["session_id"])
    assert message.text == "El variador marca F0001." and message.meta["kind"] == "recording"
    assert message.review is not None and message.review.state == "pending"  # reviewable


def test_a_transcript_stuck_in_a_loop_is_kept_and_flagged(
    omar: Run, fake_openai: FakeOpenAIServer, note: Path, isolated_dirs: Path
) -> None:
    looped = "El fallo FCO" + "TO" * 30
    fake_openai.enqueue_transcription(looped)
    result = omar("transcribe", str(note), "--json")
    assert result.exit_code == 0, result.stderr
    doc = as_json(result)
    assert doc["transcript"] == looped  # as the model wrote it
    assert doc["transcript_repeated"] and "TOTO" in doc["transcript_repeated"]
    assert "una y otra vez" in result.stderr and "escuche la grabación" in result.stderr
    (message,) = store(isolated_dirs).messages(doc["session_id"])
    assert message.meta["transcription"]["repeated"] == doc["transcript_repeated"]
    shown = omar("review", "show", doc["session_id"]).stdout
    assert "una y otra vez: escuche la grabación" in shown


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("cero cero cero dos", False),  # a code said digit by digit
        ("F0002 y otra vez F0002", False),
        ("Espere...... y mida", False),  # punctuation is no loop
        ("no no no no no no no no no no", True),
        ("El fallo FCOTOTOTOTOTOTOTOTOTOTO", True),
    ],
)
def test_what_counts_as_a_loop(text: str, flagged: bool) -> None:
    from omar_cli.transcription import runaway_repetition

    assert bool(runaway_repetition(text)) is flagged


def test_language_and_model_options(
    omar: Run, fake_openai: FakeOpenAIServer, note: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMAR_TRANSCRIPTION_MODEL", "whisper-local")
    fake_openai.enqueue_transcription("The drive shows F0002.", times=2)
    assert omar("transcribe", str(note)).exit_code == 0
    assert fake_openai.last_request.form["model"] == "whisper-local"
    result = omar("transcribe", str(note), "-l", "en", "-m", "gpt-4o-transcribe")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "The drive shows F0002.\n"
    sent = fake_openai.last_request.form
    assert (sent["model"], sent["language"]) == ("gpt-4o-transcribe", "en")
    assert sent["prompt"].startswith("Service notes on an ABB ACS150 drive")


def test_ask_sends_the_transcript_as_a_grounded_question(
    omar: Run, fake_openai: FakeOpenAIServer, note: Path
) -> None:
    fake_openai.enqueue_transcription("¿Qué significa F0002?")
    fake_openai.enqueue_answer("Sobretensión en el bus de CC [F0002].")
    result = omar("transcribe", str(note), "--ask", "--json")
    assert result.exit_code == 0, result.stderr
    chat = fake_openai.last_request
    assert chat.path.endswith("/chat/completions")
    question = chat.messages[-1]["content"]
    assert "QUESTION: ¿Qué significa F0002?" in question and "[F0002]" in question
    doc = as_json(result)
    assert doc["answer"].startswith("Sobretensión") and doc["transcript"] == "¿Qué significa F0002?"
    assert doc["file_size"] == note.stat().st_size


@pytest.mark.parametrize(
    ("script", "code", "queued"),
    [
        (lambda f: f.enqueue_invalid_key(), ExitCode.AUTH, True),  # cured by fixing the key
        (lambda f: f.enqueue_server_error(500), ExitCode.SERVER, True),
        (lambda f: f.enqueue_rate_limit(), ExitCode.RATE_LIMIT, True),
        (lambda f: f.enqueue_model_not_found(), ExitCode.BAD_REQUEST, False),
    ],
)
def test_failures_like_ask_the_recording_is_kept(
    omar: Run,
    fake_openai: FakeOpenAIServer,
    note: Path,
    isolated_dirs: Path,
    script: Callable[[FakeOpenAIServer], None],
    code: ExitCode,
    queued: bool,
) -> None:
    script(fake_openai)
    result = omar("transcribe", str(note), "--json")
    assert result.exit_code == code
    doc = as_json(result)
    assert doc["ok"] is False and doc["error"]["code"] == code and doc["queued"] is queued
    assert FAKE_KEY not in result.stdout + result.stderr
    st = store(isolated_dirs)
    message = st.get_message(doc["recording_id"])
    assert message.status == ("pending" if queued else "failed")
    assert st.media_path(message.media[0]).read_bytes() == note.read_bytes()


def test_unreachable_endpoint_queues_and_sync_completes_it(
    omar: Run,
    fake_openai: FakeOpenAIServer,
    note: Path,
    isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", unreachable_base_url())
    result = omar("transcribe", str(note), "--json")
    assert result.exit_code == ExitCode.NETWORK
    assert as_json(result)["queued"] is True
    assert "omar sync" in result.stderr

    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    fake_openai.enqueue_transcription("Ventilador ruidoso.")
    synced = omar("sync", "--json")
    assert synced.exit_code == 0, synced.stderr
    (item,) = as_json(synced)["items"]
    assert (item["status"], item["answer"]) == ("transcribed", "Ventilador ruidoso.")
    sent = fake_openai.last_request
    assert sent.files["file"].data == note.read_bytes() and "F0001" in sent.form["prompt"]
    assert sent.form["language"] == "es"
    assert store(isolated_dirs).pending() == []


def test_sync_stops_at_a_transcription_that_still_fails(
    omar: Run, fake_openai: FakeOpenAIServer, note: Path, isolated_dirs: Path
) -> None:
    assert omar("transcribe", str(note), "--offline").exit_code == 0
    fake_openai.enqueue_server_error(503)
    synced = omar("sync", "--json")
    assert synced.exit_code == ExitCode.SERVER
    assert as_json(synced)["remaining"] == 1
    assert len(store(isolated_dirs).pending()) == 1


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("nota.txt", b"hola", "no es un formato de audio"),
        ("vacia.wav", b"", "está vacío"),
    ],
)
def test_bad_files_are_input_errors(
    omar: Run, tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    result = omar("transcribe", str(path))
    assert result.exit_code == ExitCode.INPUT and message in result.stderr


def test_missing_file_and_silent_file(omar: Run, tmp_path: Path) -> None:
    assert omar("transcribe", str(tmp_path / "no.wav")).exit_code == ExitCode.INPUT
    quiet = tmp_path / "muda.wav"
    quiet.write_bytes(wav_bytes(silence(2)))
    result = omar("transcribe", str(quiet))
    assert result.exit_code == ExitCode.INPUT and "silenciosa" in result.stderr


def test_a_format_we_cannot_decode_is_sent_as_it_is(
    omar: Run, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    m4a = tmp_path / "nota.m4a"
    m4a.write_bytes(b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + b"\x00" * 200)
    fake_openai.enqueue_transcription("Cambiar el ventilador.")
    result = omar("transcribe", str(m4a), "--json")
    assert result.exit_code == 0, result.stderr
    doc = as_json(result)
    assert doc["duration_s"] is None and doc["file_size"] == m4a.stat().st_size
    assert fake_openai.last_request.files["file"].data == m4a.read_bytes()


# --------------------------------------------------------------------------- upload limit


def test_over_the_limit_speech_is_sent_as_one_flac(model: ScriptedModel, tmp_path: Path) -> None:
    path = tmp_path / "larga.wav"
    path.write_bytes(wav_bytes(tone(10, amplitude=0.2)))  # 320 kB of WAV; FLAC is far smaller
    notes = VoiceNotes(scripted_services(model).assistant, upload_limit=200_000)
    model.enqueue_transcript("Todo en orden.")
    result = notes.process(path, inspect_file(path), VoiceOptions("es"))
    (sent,) = model.transcriptions
    assert sent.audio.filename.endswith(".flac") and len(sent.audio.data) <= 200_000
    decoded, rate = soundfile.read(io.BytesIO(sent.audio.data), dtype="int16")
    assert rate == 16000 and len(decoded) == 160_000
    assert result.transcript == "Todo en orden." and result.parts == 1


def test_too_big_even_compressed_is_split_and_the_transcripts_joined(
    model: ScriptedModel, tmp_path: Path
) -> None:
    path = tmp_path / "ruido.wav"
    path.write_bytes(wav_bytes(noise(10, 0.5)))  # noise: FLAC cannot shrink it much
    notes = VoiceNotes(scripted_services(model).assistant, upload_limit=120_000)
    for text in ("Primera parte.", "Segunda parte.", "Tercera parte."):
        model.enqueue_transcript(text)
    result = notes.process(path, inspect_file(path), VoiceOptions("es"))
    sizes = [len(t.audio.data) for t in model.transcriptions]
    assert len(sizes) == 3 and all(size <= 120_000 for size in sizes)
    assert model.transcriptions[0].audio.filename.endswith("-part01.flac")
    total = sum(len(soundfile.read(io.BytesIO(t.audio.data))[0]) for t in model.transcriptions)
    assert total == 160_000  # every sample sent once
    assert result.transcript == "Primera parte. Segunda parte. Tercera parte."
    assert result.parts == 3
    first, second, _third = (str(t.prompt) for t in model.transcriptions)
    assert "F0001" in first and second.endswith("Primera parte.")  # context carried over


# --------------------------------------------------------------------------- vocabulary


def test_vocabulary_prompt_holds_the_drive_words_within_what_whisper_reads() -> None:
    entries = load_entries(builtin_dir())
    for lang, word in (("es", "variador"), ("en", "drive")):
        prompt = vocabulary_prompt(entries, lang)
        assert len(prompt) <= MAX_PROMPT_CHARS
        assert word in prompt and "F0001 OVERCURRENT" in prompt and "F0002 DC OVERVOLT" in prompt
        assert "A2010" in prompt and "1103 REF1 SELECT" in prompt
        assert "(disputed)" not in prompt and "(sibling code)" not in prompt


def test_a_stretch_that_compresses_worse_than_the_whole_is_cut_again(tmp_path: Path) -> None:
    import numpy as np

    from omar_cli.transcription import upload_clips

    signal = concat([noise(5, 0.5), silence(5)])  # the whole fits twice; its first half not
    path = tmp_path / "mixta.wav"
    path.write_bytes(wav_bytes(signal))
    clips = list(upload_clips(path, inspect_file(path), limit=120_000))
    assert len(clips) > 2 and all(len(c.data) <= 120_000 for c in clips)
    sent = np.concatenate([soundfile.read(io.BytesIO(c.data), dtype="int16")[0] for c in clips])
    assert (sent == signal[:, 0]).all()  # every sample once, in order
    names = [c.filename for c in clips]
    assert names == [f"mixta-part{n:02d}.flac" for n in range(1, len(clips) + 1)]
