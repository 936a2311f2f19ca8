"""The terminal as it is at the cabinet: 80 columns, pipes, a cp1252 console, typed codes.

The real `omar` runs in a subprocess where the process is the point: on a pseudo-terminal
where the width matters, piped where the console's encoding or a closed pipe does. What only
depends on the arguments, the language or typed answers runs in-process, through the same
``Environment`` a real run builds (tests/cli_support.py): same parsing, same output, no start-up.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import in_process
from fake_openai import FakeOpenAIServer
from terminal import run_on_terminal
from typer.testing import CliRunner

from omar_cli.cli.app import app

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
QUESTION = "El variador muestra F0002 al frenar, ¿qué reviso?"


def visible(screen: str) -> list[str]:
    return [ANSI.sub("", line).rstrip() for line in screen.splitlines()]


def piped(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "omar_cli", *args],
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("ask", "--offline", QUESTION),
        ("fault", "2"),
        ("search", "se dispara al frenar"),
        ("codes", "--kind", "safety"),
        ("show", "safety-dc-link-discharge"),
    ],
)
def test_everything_fits_an_80_column_terminal(args: tuple[str, ...]) -> None:
    run = run_on_terminal(*args, columns=80)
    assert run.returncode == 0, run.stderr
    lines = visible(run.screen)
    assert len(lines) > 3
    too_wide = [line for line in lines if len(line) > 80]
    assert too_wide == []


def test_an_answer_on_a_terminal_carries_one_safety_note() -> None:
    run = run_on_terminal("ask", "--offline", QUESTION, columns=80)
    text = "\n".join(visible(run.screen))
    assert text.count("⚠") == 1 and "5 minutos" in text


def test_piped_output_stays_plain_and_unwrapped() -> None:
    result = piped("ask", "--offline", QUESTION)
    assert result.returncode == 0
    out = result.stdout.decode("utf-8")
    assert "\x1b[" not in out and "╭" not in out
    assert max(len(line) for line in out.splitlines()) > 120  # paragraphs stay one line
    assert out.count("⚠") == 1
    search = piped("search", "se dispara al frenar").stdout.decode("utf-8")
    first = search.splitlines()[0]
    assert first.startswith("[F0002]") and "(fallo, ACS150 User's Manual" in first


def test_a_narrow_terminal_narrows_the_search_lines() -> None:
    run = run_on_terminal("search", "se dispara al frenar", columns=60)
    assert max(len(line) for line in visible(run.screen)) <= 60


def test_a_cp1252_stdout_gets_the_sheet_and_the_safety_line() -> None:
    result = piped("fault", "2", env={"PYTHONIOENCODING": "cp1252"})
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode("cp1252")
    assert "Sobretensión en el bus de continua" in out
    safety = [line for line in out.splitlines() if line.startswith("(!) ")]
    assert len(safety) == 1 and "5 minutos" in safety[0]


def test_a_cp1252_terminal_gets_the_panel_too() -> None:
    run = run_on_terminal("fault", "2", env={"PYTHONIOENCODING": "cp1252"})
    assert run.returncode == 0, run.stderr
    assert "(!)" in run.screen.replace("\x1b[1m", "")


def test_an_ascii_stderr_gets_the_error_message() -> None:
    result = piped("show", "F9999", env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 3
    assert result.stderr.decode("ascii").startswith("omar: error: ninguna entrada")


def test_help_into_head_exits_zero() -> None:
    for args in (["--help"], ["fault", "--help"]):
        proc = subprocess.Popen(
            [sys.executable, "-m", "omar_cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()  # what `head -1` does after its line
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
        assert b"Traceback" not in proc.stderr.read()


@pytest.mark.parametrize(
    ("args", "entry"),
    [
        (("fault", "fallo", "2"), "F0002"),
        (("param", "par", "2202"), "2202"),
        (("fault", "DEV", "OVERTEMP"), "F0003"),
    ],
)
def test_codes_typed_unquoted(args: tuple[str, ...], entry: str) -> None:
    result = in_process(*args, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["entry"]["id"] == entry


def test_an_unknown_name_typed_unquoted_is_named_whole() -> None:
    result = in_process("alarm", "DEVICE", "OVERTEMP")
    assert result.returncode == 3
    assert "'DEVICE OVERTEMP'" in result.stderr


def test_the_interface_follows_the_language_setting() -> None:
    spanish = in_process("show", "F9999").stderr
    english = in_process("show", "F9999", env={"OMAR_LANGUAGE": "en"}).stderr
    assert spanish.startswith("omar: error: ninguna entrada tiene el id 'F9999'")
    assert english.startswith("omar: error: no entry has the id 'F9999'")
    assert "omar: hint: closest ids:" in english


def test_removing_a_document_asks_in_spanish_and_takes_si(tmp_path: Path) -> None:
    doc = tmp_path / "notas.md"
    doc.write_text("# Frenado\n\nLa resistencia se calienta.\n", encoding="utf-8")
    added = json.loads(in_process("knowledge", "add", str(doc), "--json").stdout)
    doc_id = added["document"]["id"]
    kept = in_process("knowledge", "remove", doc_id, typed="quizá\nno\n")
    assert kept.returncode == 1 and "no se ha quitado nada" in kept.stderr
    assert "¿Quitar" in kept.stderr and "[s/N]" in kept.stderr and "responda s" in kept.stderr
    assert doc_id in in_process("knowledge", "list").stdout
    refused = in_process("knowledge", "remove", doc_id)  # no terminal to ask on, no --yes
    assert refused.returncode == 2 and doc_id in in_process("knowledge", "list").stdout
    gone = run_on_terminal("knowledge", "remove", doc_id, typed="sí\n")  # a real terminal
    assert gone.returncode == 0, gone.stderr
    assert "quitado" in gone.screen
    assert doc_id not in in_process("knowledge", "list").stdout


def test_help_is_in_spanish_by_default_and_english_on_request() -> None:
    # Typer prints help itself, to the runner's stdout rather than the Environment's
    spanish = CliRunner().invoke(app, ["--help"]).stdout
    assert "asistente de campo" in spanish and "Opciones" in spanish
    assert "Mostrar esta ayuda y salir." in spanish
    fault = CliRunner().invoke(app, ["fault", "--help"]).stdout
    assert "Ejemplo: omar fault F0002" in fault and "[obligatorio]" in fault
    english = CliRunner().invoke(app, ["fault", "--help"], env={"OMAR_LANGUAGE": "en"}).stdout
    assert "Example: omar fault F0002" in english and "Options" in english


def test_an_online_answer_on_a_terminal_fits_and_has_one_safety_note(
    fake_openai: FakeOpenAIServer,
) -> None:
    long_line = (
        "Alargue el tiempo de deceleración [2203] y compruebe que el controlador de "
        "sobretensión [2005] está activado si no hay resistencia de frenado [F0002]. "
    ) * 3
    fake_openai.enqueue_answer(long_line)
    env = {"OPENAI_API_KEY": "sk-test-terminal-0000", "OPENAI_BASE_URL": fake_openai.base_url}
    run = run_on_terminal("ask", "--new", QUESTION, columns=80, env=env)
    assert run.returncode == 0, run.stderr
    lines = visible(run.screen)
    assert [line for line in lines if len(line) > 80] == []
    text = "\n".join(lines)
    assert text.count("⚠") == 1 and "5 minutos" in text
    assert "Fuentes:" in text


def test_document_sizes_are_worded_for_one_and_many(tmp_path: Path) -> None:
    one = tmp_path / "una.md"
    one.write_text("# Frenado\n\nLa resistencia se calienta.\n", encoding="utf-8")
    out = in_process("knowledge", "add", str(one)).stdout
    assert "(markdown, 1 sección, 1 fragmento)" in out
    english = in_process("knowledge", "list", env={"OMAR_LANGUAGE": "en"}).stdout
    assert "(markdown, 1 section, added " in english
