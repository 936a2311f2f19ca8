"""A real recording through PortAudio: `omar record-and-transcribe --seconds N` while
espeak-ng speaks into a PulseAudio null sink whose monitor is the default source.

tools/virtual_sound.sh sets the sink up (.ci/run runs it first and sets OMAR_REQUIRE_SOUND=1,
so there a sound set-up that fails is a failure, not a skip). Elsewhere the tests are skipped,
with the reason, only when no sound server can run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile
from conftest import FAKE_KEY
from fake_openai import FakeOpenAIServer

from omar_cli.audio import level_dbfs

pytestmark = pytest.mark.sound

ROOT = Path(__file__).resolve().parent.parent
SETUP = ROOT / "tools" / "virtual_sound.sh"
TOOLS = ("pulseaudio", "pactl", "pacat", "espeak-ng")


def _cannot(reason: str) -> None:
    if os.environ.get("OMAR_REQUIRE_SOUND") == "1":
        pytest.fail(f"the virtual sound device is required here: {reason}")
    pytest.skip(f"no sound server can run here: {reason}")


@pytest.fixture(scope="module")
def virtual_sound() -> Iterator[None]:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        _cannot(f"{', '.join(missing)} not installed (apt install libportaudio2 pulseaudio "
                "espeak-ng)")  # fmt: skip
    proc = subprocess.run([str(SETUP)], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        _cannot(proc.stderr.strip() or f"{SETUP.name} exited {proc.returncode}")
    yield


def omar(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "omar_cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMAR_LANGUAGE": "es"},
    )


def wait_until_recording(proc: subprocess.Popen[str]) -> list[str]:
    """stderr lines up to the one that says the stream is open and recording."""
    assert proc.stderr is not None
    said: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        said.append(line)
        if "hable ahora" in line:
            return said
    proc.kill()
    raise AssertionError("the recording never started: " + "".join(said))


def finish(proc: subprocess.Popen[str]) -> tuple[int, dict[str, Any], str]:
    out, err = proc.communicate(timeout=60)
    return proc.returncode, json.loads(out), err


def test_records_espeak_through_portaudio_and_sends_it(
    virtual_sound: None, fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    fake_openai.enqueue_transcription("El variador marca el fallo F0001.")
    proc = omar("record-and-transcribe", "--seconds", "4", "--json")
    said = wait_until_recording(proc)
    speech = "El variador ACS150 marca el fallo F0001, sobrecorriente. Revise el motor."
    subprocess.run(["espeak-ng", "-v", "es", speech], check=True, timeout=30)
    code, doc, err = finish(proc)
    assert code == 0, "".join(said) + err
    assert doc["sample_rate"] == 16000 and doc["duration_s"] == pytest.approx(4.0, abs=0.11)
    assert doc["silent"] is False and doc["audio"]["sound_seconds"] > 1.0
    assert doc["transcript"] == "El variador marca el fallo F0001."
    stored = Path(doc["audio"]["path"])
    data, rate = soundfile.read(str(stored), dtype="int16", always_2d=True)
    assert rate == 16000 and len(data) == doc["duration_s"] * 16000
    assert level_dbfs(data) > -40  # speech, not the sink's zeros
    assert doc["file_size"] == stored.stat().st_size
    sent = fake_openai.last_request  # what was recorded is what was sent, with the words
    assert sent.files["file"].data == stored.read_bytes()
    assert sent.form["language"] == "es" and "F0001" in sent.form["prompt"]


def test_nothing_played_is_a_silent_recording(virtual_sound: None) -> None:
    proc = omar("record-and-transcribe", "--seconds", "1.5", "--offline", "--json")
    wait_until_recording(proc)
    code, doc, err = finish(proc)
    assert code == 6, err
    assert doc["error"]["type"] == "input" and "silenciosa" in err


def test_devices_lists_the_virtual_input(virtual_sound: None) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "omar_cli", "devices", "--json"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    devices = json.loads(proc.stdout)["devices"]
    assert devices and any(d["default"] for d in devices)
    assert all(d["channels"] > 0 for d in devices)
