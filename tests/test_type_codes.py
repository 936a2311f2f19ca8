"""A type code of a model that does not exist is said not to exist, not answered with the
nearest rating; one that exists still gets its rating. Through the real commands."""

from __future__ import annotations

import json

import pytest
from terminal import run_on_terminal
from typer.testing import CliRunner, Result

from omar_cli.cli.app import app

MISSING = "ACS150-03E-04A7-4"  # 4.7 A exists at 200 V (…-2), not at 400 V


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_search_says_the_model_does_not_exist() -> None:
    result = run("search", MISSING)
    assert result.exit_code == 0
    assert "ACS150-03x-04A7-4 no existe: ningún ACS150 lleva ese código de tipo" in result.stderr
    assert "rating-03x-04a7-2" in result.stderr  # the similar models that do exist, named
    assert "[rating-" not in result.stdout  # and no rating shown as if it were this one
    doc = json.loads(run("search", MISSING, "--json").stdout)
    assert [u["code"] for u in doc["unknown_codes"]] == ["ACS150-03x-04A7-4"]
    assert not [h for h in doc["hits"] if h["kind"] == "rating"]


@pytest.mark.parametrize("typed", ["ACS150-03E-04A7-2", "acs150-01u-09a8-2", "ACS150-03U-08A8-4"])
def test_an_existing_type_code_still_gets_its_rating(typed: str) -> None:
    doc = json.loads(run("search", typed, "--json").stdout)
    assert doc["unknown_codes"] == []
    assert doc["hits"][0]["kind"] == "rating"


def test_ask_offline_says_so_first_on_a_terminal_and_piped() -> None:
    piped = run("ask", "--offline", f"¿qué corriente da el {MISSING}?")
    assert piped.exit_code == 0
    body = piped.stdout.split("\n\n", 1)[1]
    assert body.startswith("ACS150-03x-04A7-4 no existe")
    assert "Corriente nominal de salida I2N 4,7 A" not in piped.stdout
    screen = run_on_terminal("ask", "--offline", f"what current does the {MISSING} give?")
    assert screen.returncode == 0, screen.stderr
    assert "ACS150-03x-04A7-4 does not exist: no ACS150 has that type code" in " ".join(
        screen.screen.split()
    )


def test_the_model_is_told_the_type_code_names_no_model() -> None:
    from omar_cli.prompt import unknown_block
    from omar_cli.services import Services
    from omar_cli.settings import load_settings

    unknown = Services(load_settings()).knowledge.unknown_codes(f"datos del {MISSING}")
    assert [(u.code, u.kind) for u in unknown] == [("ACS150-03x-04A7-4", "typecode")]
    block = unknown_block(unknown)
    assert "not an existing ACS150 type code (no such model)" in block
    assert "rating-03x-04a7-2" in block
