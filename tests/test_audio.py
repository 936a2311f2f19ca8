"""The recorder against a fake input stream: stop conditions, Ctrl-C, device failures, and a
file on disk that stays valid whatever happens (a kill -9 included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest
import soundfile
from audio_fakes import (
    BLOCK,
    RATE,
    FakeClock,
    FakeStream,
    concat,
    factory_of,
    failing_factory,
    interrupting_sleep,
    noise,
    silence,
    tone,
)

from omar_cli import audio
from omar_cli.audio import Progress, Recorder, RecordOptions, device_error, level_dbfs
from omar_cli.errors import AudioDeviceError, ExitCode

ROOT = Path(__file__).resolve().parent.parent


def record(
    stream: FakeStream, path: Path, clock: FakeClock | None = None, **options: object
) -> audio.Recording:
    clock = clock or FakeClock()
    recorder = Recorder(factory_of(stream), clock=clock, sleep=clock.sleep)
    return recorder.record(path, RecordOptions(**options))  # type: ignore[arg-type]


def frames_on_disk(path: Path) -> int:
    info = soundfile.info(str(path))
    assert (info.samplerate, info.channels, info.format) == (RATE, 1, "WAV")
    return int(info.frames)


def test_seconds_stops_at_that_length_and_writes_16k_mono(tmp_path: Path) -> None:
    stream = FakeStream(tone(5))
    got = record(stream, tmp_path / "a.wav", seconds=2)
    assert got.stop_reason == "seconds"
    assert got.frames == 2 * RATE and got.duration == 2.0
    assert frames_on_disk(got.path) == 2 * RATE
    assert stream.opened_with == (None, RATE, BLOCK) and stream.closed
    data, _rate = soundfile.read(str(got.path), dtype="int16")
    assert (data == tone(5)[: 2 * RATE, 0]).all()  # the samples themselves, not just a length
    assert got.bytes == got.path.stat().st_size
    assert not got.silent and got.peak_dbfs > -20


def test_first_ctrl_c_stops_and_keeps_everything_recorded(tmp_path: Path) -> None:
    stream = FakeStream(tone(5), {7: KeyboardInterrupt()})
    clock = FakeClock()
    got = record(stream, tmp_path / "a.wav", clock)
    assert (got.stop_reason, got.abandoned) == ("interrupt", False)
    assert got.frames == 7 * BLOCK == frames_on_disk(got.path)
    assert stream.closed
    assert clock.now >= audio.SECOND_INTERRUPT_WINDOW  # it waited out the window


def test_second_ctrl_c_within_a_second_abandons_but_keeps_the_file(tmp_path: Path) -> None:
    stream = FakeStream(tone(5), {4: KeyboardInterrupt()})
    clock = FakeClock()
    told: list[str] = []
    recorder = Recorder(
        factory_of(stream),
        clock=clock,
        sleep=interrupting_sleep(clock, after=0.4),
        on_interrupt=lambda: told.append("stopped"),
    )
    got = recorder.record(tmp_path / "a.wav", RecordOptions())
    assert (got.stop_reason, got.abandoned) == ("interrupt", True)
    assert told == ["stopped"]
    assert frames_on_disk(got.path) == 4 * BLOCK


def test_device_error_mid_recording_leaves_a_valid_file(tmp_path: Path) -> None:
    pulled = AudioDeviceError("the sound system failed: device unplugged")
    stream = FakeStream(tone(5), {12: pulled})
    got = record(stream, tmp_path / "a.wav")
    assert got.stop_reason == "device_error" and got.error is pulled
    assert frames_on_disk(got.path) == 12 * BLOCK == got.frames
    assert stream.closed


def test_no_microphone_leaves_no_file(tmp_path: Path) -> None:
    error = AudioDeviceError("no microphone found")
    recorder = Recorder(failing_factory(error))
    with pytest.raises(AudioDeviceError):
        recorder.record(tmp_path / "a.wav", RecordOptions())
    assert not (tmp_path / "a.wav").exists()


def test_enter_stops(tmp_path: Path) -> None:
    calls = iter(range(100))
    recorder = Recorder(factory_of(FakeStream(tone(5))), stop_requested=lambda: next(calls) >= 9)
    got = recorder.record(tmp_path / "a.wav", RecordOptions())
    assert got.stop_reason == "enter" and got.frames == 10 * BLOCK


def test_maximum_duration_stops_even_without_seconds(tmp_path: Path) -> None:
    got = record(FakeStream(tone(3)), tmp_path / "a.wav", max_seconds=1.5)
    assert got.stop_reason == "max" and got.duration == 1.5


def test_silence_stop_waits_for_sound_first(tmp_path: Path) -> None:
    # 1 s of quiet before speaking must not stop it; 1.5 s of quiet after speech does
    signal_ = concat([silence(1), tone(1), silence(5)])
    got = record(FakeStream(signal_), tmp_path / "a.wav", silence_stop=1.5)
    assert got.stop_reason == "silence"
    assert got.duration == pytest.approx(3.5, abs=0.11)


@pytest.mark.parametrize(
    ("signal_", "silent"),
    [
        (silence(2), True),  # muted: digital zeros
        (noise(2, 0.002), True),  # the wrong microphone: a faint hiss, about -60 dBFS
        (concat([silence(1.8), tone(0.2)]), True),  # a click, not a voice note
        (concat([silence(1.5), tone(0.5)]), False),
        (tone(2, amplitude=0.05), False),  # quiet speech, about -29 dBFS
    ],
)
def test_silent_recordings_are_detected(tmp_path: Path, signal_: object, silent: bool) -> None:
    got = record(FakeStream(signal_), tmp_path / "a.wav", seconds=2)  # type: ignore[arg-type]
    assert got.silent is silent


def test_levels_in_dbfs() -> None:
    assert level_dbfs(silence(0.1)) == -120.0
    assert level_dbfs(tone(0.1, amplitude=1.0)) == pytest.approx(-3.0, abs=0.1)
    assert level_dbfs(tone(0.1, amplitude=0.1)) == pytest.approx(-23.0, abs=0.1)


def test_progress_reports_elapsed_and_level(tmp_path: Path) -> None:
    seen: list[Progress] = []
    recorder = Recorder(factory_of(FakeStream(tone(1))), on_progress=seen.append)
    recorder.record(tmp_path / "a.wav", RecordOptions(seconds=1))
    assert len(seen) == 10
    assert seen[-1].elapsed == 1.0 and seen[-1].level_dbfs == pytest.approx(-13.5, abs=0.2)


def test_memory_stays_flat_however_long_it_records(tmp_path: Path) -> None:
    stream = FakeStream(tone(0.1))  # then silence, generated block by block
    tracemalloc.start()
    try:
        got = record(stream, tmp_path / "a.wav", seconds=120)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got.bytes > 3_800_000  # 2 minutes of 16-bit samples on disk...
    assert peak < 400_000  # ...and a fraction of it ever held in memory


def test_a_recorder_killed_mid_way_leaves_a_readable_file(tmp_path: Path) -> None:
    """kill -9 after 23 blocks: no close, no atexit; the WAV header is current anyway."""
    path = tmp_path / "killed.wav"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from pathlib import Path
        from audio_fakes import FakeStream, factory_of, tone
        from omar_cli.audio import Recorder, RecordOptions

        def progress(p):
            if p.elapsed >= 2.3:
                os.kill(os.getpid(), signal.SIGKILL)

        Recorder(factory_of(FakeStream(tone(10))), on_progress=progress).record(
            Path({str(path)!r}), RecordOptions()
        )
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert frames_on_disk(path) == 23 * BLOCK
    data, _rate = soundfile.read(str(path), dtype="int16")
    assert (data == tone(10)[: 23 * BLOCK, 0]).all()
    size = 23 * BLOCK * 2
    assert path.stat().st_size == 44 + size
    header = path.read_bytes()[:44]  # the sizes other readers trust, ffmpeg's included
    assert header[:4] == b"RIFF" and header[36:40] == b"data"
    assert int.from_bytes(header[4:8], "little") == 36 + size
    assert int.from_bytes(header[40:44], "little") == size


@pytest.mark.parametrize(
    ("said", "device", "message", "hint"),
    [
        ("Error querying device -1", None, "no microphone found", "omar devices"),
        ("Error querying device 42", 42, "no input device 42", "--device"),
        ("No input device matching 'usb'", "usb", "no input device 'usb'", "--device"),
        (
            "Error opening InputStream: Invalid sample rate [PaErrorCode -9997]",
            None,
            "does not record at 16000 Hz",
            "--device",
        ),
        (
            "Error opening InputStream: Device unavailable [PaErrorCode -9985]",
            None,
            "busy",
            "close the other program",
        ),
    ],
)
def test_portaudio_failures_become_one_line_with_the_fix(
    said: str, device: object, message: str, hint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMAR_LANGUAGE", "en")
    error = device_error(RuntimeError(said), device, RATE)  # type: ignore[arg-type]
    assert error.code == ExitCode.AUDIO_DEVICE == 7
    assert message in error.message and "\n" not in error.message
    assert hint in str(error.hint)


def test_portaudio_missing_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    monkeypatch.setenv("OMAR_LANGUAGE", "en")
    real_import = builtins.__import__

    def no_portaudio(name: str, *args: object, **kwargs: object) -> object:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_portaudio)
    with pytest.raises(AudioDeviceError) as caught:
        audio.open_input_stream(None, RATE, BLOCK)
    assert "PortAudio" in caught.value.message
    assert "apt install libportaudio2" in str(caught.value.hint)


def test_device_is_an_index_or_a_name() -> None:
    assert audio.parse_device("3") == 3
    assert audio.parse_device(" USB Audio ") == "USB Audio"
    assert audio.parse_device(None) is None and audio.parse_device("") is None


def test_the_fsync_keeps_a_power_loss_to_the_last_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[float] = []
    clock = FakeClock()
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(clock.now), real_fsync(fd)))

    def advancing(_p: Progress) -> None:
        clock.now += 0.1

    recorder = Recorder(factory_of(FakeStream(tone(5))), clock=clock, on_progress=advancing)
    recorder.record(tmp_path / "a.wav", RecordOptions(seconds=3))
    # once a second while recording (the clock moves 0.1 s a block), and once at the end
    assert 3 <= len(synced) <= 4
