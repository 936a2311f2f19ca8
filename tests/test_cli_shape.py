"""The CLI's shape: help text everywhere, a light start-up, one JSON envelope."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from omar_cli.cli.app import app
from omar_cli.cli.output import JSON_SCHEMA, Output

HEAVY = (
    "openai",
    "httpx",
    "numpy",
    "PIL",
    "sounddevice",
    "soundfile",
    "pypdf",
    "tinydb",
    "sqlite3",
    "faster_whisper",  # the `local` extra: imported only to transcribe locally
    "ctranslate2",
    "av",
)


def _commands(group: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [(*prefix, c.name or c.callback.__name__) for c in group.registered_commands]  # type: ignore[union-attr]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None and sub.name
        found += _commands(sub.typer_instance, (*prefix, sub.name))
    return found


def test_the_command_list_holds_the_look_ups() -> None:
    names = {c[0] for c in _commands(app)}
    assert {"fault", "alarm", "param", "search", "codes"} <= names


@pytest.mark.parametrize("command", _commands(app))
def test_every_command_has_help_with_an_example(
    command: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Ejemplo: omar " in result.output  # Spanish by default
    monkeypatch.setenv("OMAR_LANGUAGE", "en")
    result = CliRunner().invoke(app, [*command, "--help"])
    assert "Example: omar " in result.output and "Options" in result.output


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "from omar_cli.cli.app import app\n"
        "try:\n    app(['--help'], prog_name='omar')\nexcept SystemExit:\n    pass\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY=\n" in proc.stderr or proc.stderr.rstrip().endswith("HEAVY="), proc.stderr


def test_version_flag() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("omar ")


def test_json_envelope_contract() -> None:
    import io

    buf = io.StringIO()
    Output(stdout=buf, stderr=io.StringIO(), command="demo").emit_json({"answer": "x", "n": 1})
    doc = json.loads(buf.getvalue())
    assert doc == {"schema": JSON_SCHEMA, "command": "demo", "ok": True, "answer": "x", "n": 1}


def test_secrets_are_redacted_from_output() -> None:
    import io

    out, err = io.StringIO(), io.StringIO()
    o = Output(stdout=out, stderr=err, secrets=("sk-secret-key-123",))
    o.out("key is sk-secret-key-123")
    o.err("omar: error: sk-secret-key-123 rejected")
    assert "sk-secret-key-123" not in out.getvalue() + err.getvalue()


def test_a_closed_pipe_stops_printing_without_an_error() -> None:
    import io

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    out = Output(stdout=ClosedPipe(), stderr=io.StringIO())
    out.out("first line")  # must not raise: `omar ask ... | head -1` is normal use
    out.out("second line")
    assert out.stdout_closed


def test_answer_is_stored_when_the_reader_goes_away() -> None:
    """`omar ask ... | head -1`: the pipe closes mid-answer, the answer is still stored."""
    import os

    code = (
        "import sys\n"
        "from omar_cli.cli.app import main\n"
        "sys.argv = ['omar', 'ask', '--offline', 'Falla a tierra en el motor']\n"
        "main()\n"
    )
    proc = subprocess.run(
        f'{sys.executable} -c "{code}" | true',  # the reader is gone before any output
        shell=True,
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=60,
    )
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    from omar_cli.settings import load_settings
    from omar_cli.store import SessionStore

    store = SessionStore(load_settings().paths.store)
    (session,) = store.list_sessions()
    assert [m.role for m in store.messages(session.id)] == ["user", "assistant"]


def test_a_dummy_key_does_not_garble_output() -> None:
    import io

    out = io.StringIO()
    Output(stdout=out, stderr=io.StringIO(), secrets=("x", " ", "e")).out("text exe EMC")
    assert out.getvalue() == "text exe EMC\n"


def test_undecodable_input_is_recovered() -> None:
    from omar_cli.text import clean_text

    latin1 = b"caf\xe9 F0002".decode("utf-8", "surrogateescape")
    assert clean_text(latin1) == "café F0002"
    assert clean_text("ya es UTF-8: café") == "ya es UTF-8: café"


@pytest.mark.parametrize(
    "args",
    [["fault", "--json"], ["search", "-n", "0", "--json", "F1"], ["nonexistent", "--json"]],
)
def test_usage_errors_exit_2_with_one_line_and_json(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith("omar: error: ")
    assert "Traceback" not in result.stderr and "╭" not in result.stderr
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["error"]["type"] == "usage"


def test_root_usage_errors_are_one_line_too() -> None:
    result = CliRunner().invoke(app, ["--bogus", "--json"])
    assert result.exit_code == 2
    assert result.stderr.startswith("omar: error: No existe la opción --bogus")
    assert json.loads(result.stdout)["error"]["type"] == "usage"


def test_a_bare_group_shows_its_help() -> None:
    result = CliRunner().invoke(app, ["config"])
    assert "Usage: omar config" in result.output and "omar: error" not in result.output
