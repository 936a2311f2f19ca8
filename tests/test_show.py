"""`omar show ID` and how the user's own documents are cited, through the real commands."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from omar_cli.cli.app import app

NOTES = """# Frenado

El chopper necesita una resistencia externa.

## Resistencia

La resistencia de frenado de 100 ohmios se calienta mucho al parar la sierra.
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def as_json(result: Result) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


@pytest.fixture
def notes(tmp_path: Path) -> str:
    path = tmp_path / "taller.md"
    path.write_text(NOTES, encoding="utf-8")
    result = run("knowledge", "add", str(path), "--title", "Notas del taller", "--json")
    assert result.exit_code == 0, result.stderr
    return str(as_json(result)["document"]["id"])


@pytest.mark.parametrize(
    ("typed", "entry"),
    [
        ("F0002", "F0002"),
        ("f0002", "F0002"),
        ("[2202]", "2202"),
        ("safety-dc-link-discharge", "safety-dc-link-discharge"),
        ("rating-03x-04a7-2", "rating-03x-04a7-2"),
        ("fallo 2", "F0002"),
    ],
)
def test_show_opens_any_built_in_entry(typed: str, entry: str) -> None:
    result = run("show", typed, "--json")
    assert result.exit_code == 0, result.stderr
    doc = as_json(result)
    assert doc["command"] == "show" and doc["entry"]["id"] == entry


def test_show_as_text_has_the_sheet_and_one_safety_line() -> None:
    result = run("show", "F0002")
    out = result.stdout
    assert out.startswith("[F0002] DC OVERVOLT — Sobretensión en el bus de continua")
    assert "Fuente: ACS150 User's Manual" in out and out.count("⚠") == 1


def test_show_opens_a_chunk_of_the_users_document_with_its_section(notes: str) -> None:
    search = run("search", "resistencia se calienta sierra", "--json")
    hit = next(h for h in as_json(search)["hits"] if h["kind"] == "document")
    assert hit["source"] == "Notas del taller, § 1.1 Resistencia [user]"
    shown = run("show", hit["id"])
    out = shown.stdout
    assert shown.exit_code == 0
    assert "Notas del taller § 1.1 Resistencia" in out and "100 ohmios" in out
    assert "documento añadido por el usuario" in out and "p. 1.1" not in out
    doc = as_json(run("show", hit["id"], "--json"))["entry"]
    assert doc["kind"] == "document" and doc["sources"][0]["section"] == "§ 1.1 Resistencia"


def test_text_without_pages_is_cited_by_paragraph(tmp_path: Path) -> None:
    path = tmp_path / "registro.txt"
    paragraphs = [f"Parada {n}: el motor se calienta y salta el térmico." * 8 for n in range(6)]
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    assert run("knowledge", "add", str(path)).exit_code == 0
    hits = as_json(run("search", "parada motor térmico", "--json", "-n", "20"))["hits"]
    sources = {h["source"] for h in hits if h["kind"] == "document"}
    assert sources and all(re.fullmatch(r"registro, ¶ \d+ \[user\]", s) for s in sources)
    assert "registro, ¶ 1 [user]" in sources and len(sources) > 1


def test_unknown_id_exits_3_with_suggestions() -> None:
    result = run("show", "safety-dc", "--json")
    assert result.exit_code == 3
    error = as_json(result)["error"]
    assert error["type"] == "not_found"
    assert "safety-dc-link-discharge" in error["suggestions"]
    text = run("show", "ACS150-03E-04A7-9")
    assert text.exit_code == 3
    assert text.stderr.startswith("omar: error: ninguna entrada tiene el id")


def test_adding_a_missing_file_is_not_found(tmp_path: Path) -> None:
    result = run("knowledge", "add", str(tmp_path / "manual.pdf"))
    assert result.exit_code == 3
    assert "no existe el archivo" in result.stderr
