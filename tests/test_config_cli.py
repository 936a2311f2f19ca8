"""`omar config` and `omar status` through the real commands: refused values, files saved
by Notepad, and one wording for the key and the endpoint."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from terminal import run_on_terminal
from typer.testing import CliRunner, Result

from omar_cli.cli.app import app
from omar_cli.errors import ExitCode


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def as_json(result: Result) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def config_file(home: Path) -> Path:
    return home / "config" / "config.toml"


def test_a_language_without_messages_is_refused_like_lang(isolated_dirs: Path) -> None:
    result = run("config", "set", "language", "fr")
    assert result.exit_code == ExitCode.CONFIG
    assert "'fr'" in result.stderr and "es, en" in result.stderr
    assert "valor no válido para 'language'" in result.stderr
    assert not config_file(isolated_dirs).exists()
    assert run("config", "set", "language", "EN").exit_code == 0
    assert "language = 'en'" in config_file(isolated_dirs).read_text(encoding="utf-8").replace(
        '"', "'"
    )


@pytest.mark.parametrize("value", ["-5", "-0.5", "--5"])
def test_a_negative_number_is_a_value_to_refuse_not_an_option(value: str) -> None:
    result = run("config", "set", "timeout", value)
    assert result.exit_code == ExitCode.CONFIG, result.stderr
    assert "No such option" not in result.stderr and "opción" not in result.stderr
    assert f"'{value}'" in result.stderr and "3600" in result.stderr


def test_a_negative_number_on_the_terminal_in_english(isolated_dirs: Path) -> None:
    run_ = run_on_terminal("config", "set", "max_retries", "-1", env={"OMAR_LANGUAGE": "en"})
    assert run_.returncode == ExitCode.CONFIG
    assert "bad value for 'max_retries': '-1' (must be a whole number from 0 to 10)" in (
        run_.stderr
    )


NOTEPAD = 'language = "en"\nmodel = "gpt-4o"\n'


@pytest.mark.parametrize(
    "encoded",
    [
        NOTEPAD.encode("utf-8-sig"),  # Notepad's "UTF-8 with BOM"
        NOTEPAD.encode("utf-16"),  # Notepad's "Unicode" (little-endian, with a BOM)
        b"\xfe\xff" + NOTEPAD.encode("utf-16-be"),  # "Unicode big endian"
    ],
)
def test_a_file_saved_by_notepad_is_read(isolated_dirs: Path, encoded: bytes) -> None:
    path = config_file(isolated_dirs)
    path.parent.mkdir(parents=True)
    path.write_bytes(encoded)
    result = run("config", "show", "--json")
    assert result.exit_code == 0, result.stderr
    settings = as_json(result)["settings"]
    assert settings["model"] == {"value": "gpt-4o", "origin": "config", "env": "OMAR_MODEL"}
    # the messages follow the file's language from the first line on
    assert "model = 'gpt-4o'  (config file; $OMAR_MODEL)" in run("config", "show").stdout
    # and `config set` keeps the other values, writing UTF-8 back
    assert run("config", "set", "timeout", "12").exit_code == 0
    assert path.read_bytes().decode("utf-8").count("gpt-4o") == 1


@pytest.mark.parametrize(
    "encoded",
    [NOTEPAD.encode("utf-16-le"), NOTEPAD.encode("latin-1") + "ñ".encode("latin-1")],
)
def test_a_file_in_another_encoding_is_refused_and_look_ups_still_work(
    isolated_dirs: Path, encoded: bytes
) -> None:
    path = config_file(isolated_dirs)
    path.parent.mkdir(parents=True)
    path.write_bytes(encoded)
    result = run("config", "show")
    assert result.exit_code == ExitCode.CONFIG
    assert f"el archivo de configuración {path} no es texto UTF-8" in result.stderr
    assert "guárdelo de nuevo como UTF-8" in result.stderr
    looked_up = run("fault", "2")
    assert looked_up.exit_code == 0 and "F0002" in looked_up.stdout
    assert "no es texto UTF-8" in looked_up.stderr  # the warning says why defaults are used


def status_json(env: dict[str, str] | None = None) -> dict[str, Any]:
    result = run("status", "--no-check", "--json", env=env)
    assert result.exit_code == 0, result.stderr
    return as_json(result)


@pytest.mark.parametrize(
    ("env", "access", "es_words"),
    [
        ({}, "offline", "sin clave API (defina OPENAI_API_KEY): solo respuestas sin conexión"),
        (
            {"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"},
            "local_endpoint",
            "servidor local, no hace falta clave",
        ),
        ({"OPENAI_API_KEY": "sk-abcdefgh12345678"}, "api_key", "sk-…5678 (clave API definida)"),
    ],
)
def test_status_words_the_key_and_endpoint_one_way(
    env: dict[str, str], access: str, es_words: str
) -> None:
    assert status_json(env)["access"] == access
    screen = run_on_terminal("status", "--no-check", env=env)
    assert screen.returncode == 0, screen.stderr
    key_line = next(line for line in screen.screen.splitlines() if line.startswith("clave API"))
    assert key_line.split(None, 2)[2] == es_words
    assert "offline answers only" not in screen.screen
    if access == "local_endpoint":
        assert "sin conexión" not in screen.screen  # a local server answers online
    piped = run("status", "--no-check", env={**env, "OMAR_LANGUAGE": "en"})
    assert re.search(r"(?m)^endpoint health +not (checked|contacted)", piped.stdout)


def test_status_checked_without_key_says_it_did_not_contact_anyone() -> None:
    result = run("status")
    assert result.exit_code == 0
    doc = status_json()
    assert doc["endpoint_ok"] is None and doc["endpoint_error"] is None
    assert doc["endpoint"] == "https://api.openai.com/v1" and doc["endpoint_default"] is True
    assert "no se contacta (solo respuestas sin conexión)" in result.stdout
    assert "(por defecto)" in result.stdout
