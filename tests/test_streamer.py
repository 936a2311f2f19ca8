"""The live view of an answer: what stderr says while a slow model reads a long prompt."""

from __future__ import annotations

import io
import json
import time

import pytest
from scripted_support import ScriptedCli

from omar_cli.cli import streamer
from omar_cli.cli.output import Output
from omar_cli.cli.streamer import Streamer
from omar_cli.llm.scripted import ScriptedModel


def _output() -> tuple[Output, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Output(stdout=out, stderr=err), out, err


def test_a_slow_first_word_is_announced_on_stderr_until_the_answer_starts() -> None:
    output, out, err = _output()
    with Streamer(output, first_note_after=0.05, note_every=0.1) as stream:
        time.sleep(0.32)
        stream.write("Revise 2202.")
        notes = err.getvalue()
        time.sleep(0.25)  # no note once words flow
    assert notes.count("omar: ") >= 2
    assert err.getvalue() == notes
    assert out.getvalue() == "Revise 2202.\n"


def test_a_quick_answer_prints_no_working_note() -> None:
    output, out, err = _output()
    with Streamer(output, first_note_after=0.2) as stream:
        stream.write("Hola")
    time.sleep(0.3)
    assert err.getvalue() == ""
    assert out.getvalue() == "Hola\n"


def test_json_mode_keeps_stdout_for_the_object() -> None:
    output, out, err = _output()
    with Streamer(output, show_text=False, first_note_after=0.02, note_every=1) as stream:
        time.sleep(0.1)
        stream.write("texto")
    assert out.getvalue() == ""
    assert stream.text == "texto" and stream.started
    assert err.getvalue().startswith("omar: ")


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_ask_says_the_model_is_working_in_spanish(
    json_flag: list[str],
    knowledge_cache: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMAR_CACHE_DIR", str(knowledge_cache))
    monkeypatch.setattr(streamer, "FIRST_NOTE_AFTER", 0.05)
    monkeypatch.setattr(streamer, "NOTE_EVERY", 0.1)
    model = ScriptedModel()
    model.enqueue(["F0001 es sobrecorriente ", "[F0001]."], wait=0.35)
    ran = ScriptedCli(model)("ask", *json_flag, "¿Qué es F0001?")
    assert ran.exit_code == 0, ran.output
    assert "omar: el modelo sigue trabajando (" in ran.stderr
    if json_flag:
        assert json.loads(ran.stdout)["answer"].startswith("F0001 es sobrecorriente")
    else:
        assert ran.stdout.startswith("F0001 es sobrecorriente [F0001].")
