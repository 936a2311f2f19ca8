"""`omar record-and-transcribe` through the real CLI, with a fake input stream and the
scripted chat model: what is stored, printed, sent and queued."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import soundfile
from audio_fakes import FakeStream, concat, factory_of, failing_factory, silence, tone
from scripted_support import _Current
from typer.testing import CliRunner, Result

from omar_cli.cli.app import app
from omar_cli.cli.context import AppState
from omar_cli.cli.output import Output
from omar_cli.errors import AudioDeviceError, NetworkError
from omar_cli.llm.scripted import ScriptedModel
from omar_cli.services import Services
from omar_cli.settings import load_settings
from omar_cli.store import SessionStore

Run = Callable[..., Result]


@pytest.fixture
def omar(model: ScriptedModel) -> Callable[..., Result]:
    """Runs omar in-process with ``model`` and the given input stream factory."""

    def run(*args: str, stream: Any = None, input: str | None = None) -> Result:
        output = Output(stdout=_Current("stdout"), stderr=_Current("stderr"))  # type: ignore[arg-type]
        services = Services(load_settings(), chat_override=model, audio_input=stream)
        state = AppState(services=services, output=output)
        return CliRunner().invoke(app, list(args), input=input, obj=state)

    return run


def store(home: Path) -> SessionStore:
    return SessionStore(home / "data" / "store")


def recordings(home: Path) -> list[Path]:
    return sorted((home / "data" / "recordings").glob("*.wav"))


def test_records_stores_and_transcribes_with_the_vocabulary(
    omar: Run, model: ScriptedModel, isolated_dirs: Path
) -> None:
    model.enqueue_transcript("El variador marca F0001 al arrancar.")
    result = omar("record-and-transcribe", "--seconds", "2", stream=factory_of(FakeStream(tone(5))))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "El variador marca F0001 al arrancar.\n"
    assert "Intro" in result.stderr and "Ctrl-C" in result.stderr  # how to stop, in Spanish
    (sent,) = model.transcriptions
    assert (sent.model, sent.language) == ("whisper-1", "es")
    assert sent.audio.filename.endswith(".wav")
    assert "variador" in str(sent.prompt) and "F0001 OVERCURRENT" in str(sent.prompt)
    assert "Parámetros: " in str(sent.prompt)
    info = soundfile.info(__import__("io").BytesIO(sent.audio.data))
    assert (info.samplerate, info.channels, info.frames) == (16000, 1, 32000)
    # stored in the session, content-addressed; the working copy is gone
    st = store(isolated_dirs)
    (session,) = st.list_sessions()
    (note,) = st.messages(session.id)
    assert note.text == "El variador marca F0001 al arrancar." and note.status == "answered"
    assert note.meta["kind"] == "recording" and note.model == "whisper-1"
    assert st.media_path(note.media[0]).read_bytes() == sent.audio.data
    assert recordings(isolated_dirs) == []


def test_json_has_ask_fields_and_the_audio_facts(omar: Run, model: ScriptedModel) -> None:
    model.enqueue_transcript("¿Qué significa F0002?")
    model.enqueue("F0002 es sobretensión en el bus de CC [F0002].")
    result = omar(
        "record-and-transcribe", "--seconds", "1.5", "--ask", "--json",
        stream=factory_of(FakeStream(tone(5))),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["command"] == "record-and-transcribe" and doc["ok"] is True
    assert doc["transcript"] == "¿Qué significa F0002?"
    assert (doc["duration_s"], doc["sample_rate"], doc["file_size"]) == (1.5, 16000, 44 + 48000)
    assert doc["answer"].startswith("F0002 es sobretensión") and doc["mode"] == "online"
    assert [s["id"] for s in doc["sources"]] == ["F0002"]
    assert doc["asked"] is True and doc["recording_id"] != doc["question_id"]
    # the question sent is the transcript, grounded like `omar ask`, and sent once
    (request,) = model.requests
    texts = [m.text for m in request.messages]
    assert sum("¿Qué significa F0002?" in t for t in texts) == 1
    assert "QUESTION: ¿Qué significa F0002?" in request.messages[-1].text
    assert "KNOWLEDGE" in request.messages[-1].text


def test_ask_in_text_mode_prints_transcript_then_answer(omar: Run, model: ScriptedModel) -> None:
    model.enqueue_transcript("¿Qué es F0002?")
    model.enqueue("Sobretensión en el bus de CC [F0002].")
    result = omar(
        "record-and-transcribe", "--seconds", "1", "--ask", stream=factory_of(FakeStream(tone(2)))
    )
    assert result.exit_code == 0, result.stderr
    transcript, answer = result.stdout.split("\n\n", 1)
    assert transcript == "¿Qué es F0002?"
    assert answer.startswith("Sobretensión en el bus de CC [F0002].")


def test_a_silent_recording_is_reported_and_not_sent(
    omar: Run, model: ScriptedModel, isolated_dirs: Path
) -> None:
    muted = factory_of(FakeStream(silence(3)))
    result = omar("record-and-transcribe", "--seconds", "2", stream=muted)
    assert result.exit_code == 6
    assert "silenciosa" in result.stderr and "micrófono" in result.stderr
    assert model.transcriptions == [] and store(isolated_dirs).list_sessions() == []
    assert len(recordings(isolated_dirs)) == 1  # still on disk, to check what went wrong


def test_no_microphone_is_one_line_with_the_fix_and_its_own_code(omar: Run) -> None:
    from omar_cli.audio import device_error

    error = device_error(RuntimeError("Error querying device -1"), None, 16000)
    result = omar("record-and-transcribe", stream=failing_factory(error))
    assert result.exit_code == 7
    lines = result.stderr.strip().splitlines()
    assert lines[-2].startswith("omar: error: ") and "micrófono" in lines[-2]
    assert lines[-1].startswith("omar: sugerencia: ") and "omar devices" in lines[-1]
    assert len(lines) == 2  # nothing said about a recording that never started


def test_ctrl_c_stops_and_the_recording_is_transcribed(omar: Run, model: ScriptedModel) -> None:
    model.enqueue_transcript("Revisar el parámetro 2202.")
    stream = FakeStream(tone(5), {8: KeyboardInterrupt()})
    result = omar("record-and-transcribe", "--json", stream=factory_of(stream))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["stop_reason"], doc["duration_s"]) == ("interrupt", 0.8)
    assert doc["transcript"] == "Revisar el parámetro 2202."
    assert "Ctrl-C" in result.stderr


def test_device_failing_mid_way_keeps_and_transcribes_what_was_recorded(
    omar: Run, model: ScriptedModel
) -> None:
    model.enqueue_transcript("Motor caliente.")
    pulled = AudioDeviceError("el sistema de sonido falló: dispositivo desconectado")
    stream = FakeStream(tone(5), {10: pulled})
    result = omar("record-and-transcribe", "--json", stream=factory_of(stream))
    assert result.exit_code == 7  # said, after the transcript was kept
    doc = json.loads(result.stdout)
    assert doc["transcript"] == "Motor caliente." and doc["duration_s"] == 1.0
    assert "desconectado" in result.stderr


def test_network_failure_queues_and_sync_completes_it(
    omar: Run, model: ScriptedModel, isolated_dirs: Path
) -> None:
    model.enqueue_transcribe_error(NetworkError("no se puede conectar"))
    result = omar(
        "record-and-transcribe", "--seconds", "1", "--ask", "--json",
        stream=factory_of(FakeStream(tone(2))),
    )  # fmt: skip
    assert result.exit_code == 14
    doc = json.loads(result.stdout)
    assert doc["queued"] is True and doc["transcript"] is None
    assert doc["error"]["type"] == "network"
    st = store(isolated_dirs)
    (pending,) = st.pending()
    assert pending.id == doc["recording_id"] and pending.media

    model.enqueue_transcript("¿Qué es F0002?")
    model.enqueue("Sobretensión en el bus de CC [F0002].")
    synced = omar("sync", "--json")
    assert synced.exit_code == 0, synced.stderr
    report = json.loads(synced.stdout)
    transcribed, answered = report["items"]
    assert (transcribed["status"], transcribed["answer"]) == ("transcribed", "¿Qué es F0002?")
    assert answered["status"] == "answered" and answered["question"] == "¿Qué es F0002?"
    assert answered["answer"].startswith("Sobretensión en el bus de CC [F0002].")
    assert st.pending() == [] and len(model.transcriptions) == 2
    assert model.transcriptions[1].audio.data == model.transcriptions[0].audio.data


def test_offline_recording_waits_without_touching_the_network(
    omar: Run, model: ScriptedModel, isolated_dirs: Path
) -> None:
    result = omar(
        "record-and-transcribe", "--seconds", "1", "--offline",
        stream=factory_of(FakeStream(concat([tone(1), tone(1)]))),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert model.transcriptions == [] and "omar sync" in result.stderr
    assert len(store(isolated_dirs).pending()) == 1


class _TtyText(__import__("io").StringIO):
    def isatty(self) -> bool:
        return True


def test_live_meter_redraws_level_time_and_how_to_stop_on_a_terminal(tmp_path: Path) -> None:
    from omar_cli.audio import Progress
    from omar_cli.cli.record import _LiveMeter

    err = _TtyText()
    meter = _LiveMeter(Output(stdout=_TtyText(), stderr=err), tmp_path / "rec.wav")
    meter.start()
    meter.update(Progress(elapsed=65.2, level_dbfs=-30.0, sound_seconds=3.0))
    meter.update(Progress(elapsed=65.25, level_dbfs=-10.0, sound_seconds=3.0))  # too soon
    meter.update(Progress(elapsed=65.4, level_dbfs=-90.0, sound_seconds=3.0))
    shown = err.getvalue()
    assert "hable ahora; pulse Intro o Ctrl-C para parar" in shown
    first, second = shown.split("\r")[1:]
    assert first == f"● 01:05 [{'█' * 10}{'·' * 10}]  -30 dB   Intro/Ctrl-C: parar"
    assert second.startswith(f"● 01:05 [{'·' * 20}]  -90 dB")


def test_a_second_ctrl_c_keeps_the_file_and_sends_nothing(
    omar: Run, model: ScriptedModel, isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from omar_cli.audio import Recorder

    # the second Ctrl-C itself is driven in tests/test_audio.py; here, what the CLI does then
    monkeypatch.setattr(Recorder, "_second_interrupt", lambda self: True)
    stream = FakeStream(tone(5), {6: KeyboardInterrupt()})
    result = omar("record-and-transcribe", "--json", stream=factory_of(stream))
    assert result.exit_code == 130
    doc = json.loads(result.stdout)
    assert doc["abandoned"] is True and doc["ok"] is False and doc["transcript"] is None
    (kept,) = recordings(isolated_dirs)
    assert doc["kept_at"] == str(kept) and soundfile.info(str(kept)).frames == 6 * 1600
    assert model.transcriptions == [] and store(isolated_dirs).list_sessions() == []


def test_enter_stops_the_recording(
    omar: Run, model: ScriptedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from omar_cli.cli import record

    watch = record._EnterWatcher._watch

    def after_speaking(self: record._EnterWatcher) -> None:
        time.sleep(0.5)  # Enter typed once something was said, not before the first block
        watch(self)

    monkeypatch.setattr(record._EnterWatcher, "_watch", after_speaking)
    model.enqueue_transcript("Listo.")
    paced = factory_of(FakeStream(tone(90), pace=0.01))
    result = omar("record-and-transcribe", "--max-seconds", "60", "--json", input="\n",
                  stream=paced)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["stop_reason"] == "enter" and 0.3 < doc["duration_s"] < 60
    assert doc["transcript"] == "Listo."


def test_no_enter_typed_stops_nothing(omar: Run, model: ScriptedModel) -> None:
    """Standard input at its end (a script, CI, `< /dev/null`) is no Enter."""
    model.enqueue_transcript("Listo.")
    result = omar("record-and-transcribe", "--seconds", "2", "--json", input="",
                  stream=factory_of(FakeStream(tone(3), pace=0.002)))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["stop_reason"] == "seconds"


def test_a_click_is_too_little_sound_not_silence(omar: Run, model: ScriptedModel) -> None:
    click = factory_of(FakeStream(concat([silence(1.8), tone(0.2)])))
    result = omar("record-and-transcribe", "--seconds", "2", stream=click)
    assert result.exit_code == 6 and "muy poco sonido (0.2 s)" in result.stderr
    assert model.transcriptions == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--language", "español"), "ISO 639-1"),
        (("--session", "20200101-000000-dead"), "20200101-000000-dead"),
    ],
)
def test_bad_options_are_refused_before_recording(
    omar: Run, isolated_dirs: Path, args: tuple[str, ...], said: str
) -> None:
    stream = FakeStream(tone(3))
    result = omar("record-and-transcribe", "--seconds", "1", *args, stream=factory_of(stream))
    assert result.exit_code in (2, 3) and said in result.stderr
    assert stream.reads == 0 and recordings(isolated_dirs) == []
