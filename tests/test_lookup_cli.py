"""Offline look-ups through the CLI: code forms, not-found, plain and JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from omar_cli.cli.app import app
from omar_cli.errors import ExitCode


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize(
    ("command", "raw", "expected"),
    [
        ("fault", "F0001", "F0001"),
        ("fault", "F1", "F0001"),
        ("fault", "fallo 16", "F0016"),
        ("fault", "0016", "F0016"),
        ("fault", "2310", "F0001"),  # fieldbus (DRIVECOM) code of OVERCURRENT
        ("alarm", "A2010", "A2010"),
        ("alarm", "2010", "A2010"),
        ("param", "22.02", "2202"),
        ("param", "par 2202", "2202"),
    ],
)
def test_code_forms_resolve(command: str, raw: str, expected: str) -> None:
    result = run(command, raw, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["ok"] is True and doc["entry"]["id"] == expected
    assert doc["entry"]["sources"], "every entry carries its provenance"


def test_fault_plain_text_is_a_fact_sheet_with_safety() -> None:
    result = run("fault", "F0004", "--lang", "en")
    assert result.exit_code == 0
    assert result.stdout.startswith("[F0004] SHORT CIRC")
    assert "Source:" in result.stdout and "5 minutes" in result.stdout
    assert "\x1b[" not in result.stdout


def test_family_entries_say_verify_on_manual() -> None:
    doc = json.loads(run("fault", "F0016", "--json", "--lang", "en").stdout)
    assert doc["entry"]["verify_on_manual"] is True
    assert "verify on your drive's manual" in doc["entry"]["provenance"]


def test_unknown_code_exits_not_found_with_suggestions() -> None:
    result = run("fault", "F0099", "--json")
    assert result.exit_code == ExitCode.NOT_FOUND
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["error"]["type"] == "not_found"
    assert doc["error"]["suggestions"]
    assert result.stderr.startswith("omar: error: fallo desconocido")


def test_search_json_hits_best_first() -> None:
    result = run("search", "--json", "se dispara por sobretensión al frenar")
    assert result.exit_code == 0
    hits = json.loads(result.stdout)["hits"]
    assert hits[0]["id"] == "F0002"
    assert {"id", "kind", "title", "text"} <= set(hits[0])


def test_search_finds_a_users_document_by_page(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in ("Contents", "Zorblax calibration of the integrated potentiometer, step 4."):
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    path = tmp_path / "manual.pdf"
    pdf.output(str(path))
    added = run("knowledge", "add", str(path), "--title", "My manual", "--json")
    assert added.exit_code == 0, added.stderr
    doc_id = json.loads(added.stdout)["document"]["id"]
    hits = json.loads(run("search", "--json", "zorblax calibration").stdout)["hits"]
    assert hits and hits[0]["kind"] == "document" and "p. 2" in hits[0]["title"]
    listed = json.loads(run("knowledge", "list", "--json").stdout)["documents"]
    assert [d["id"] for d in listed] == [doc_id]
    assert run("knowledge", "remove", doc_id, "--yes").exit_code == 0
    hits = json.loads(run("search", "--json", "zorblax calibration").stdout)["hits"]
    assert all(h["kind"] != "document" for h in hits)


def test_knowledge_add_rejects_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"not a pdf at all")
    result = run("knowledge", "add", str(bad))
    assert result.exit_code == ExitCode.INPUT
    assert len(result.stderr.strip().splitlines()) <= 2 and "Traceback" not in result.stderr


def test_look_ups_work_with_a_broken_config_file(isolated_dirs: Path) -> None:
    config = isolated_dirs / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('model = "unclosed\n')
    result = run("fault", "F0001", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["entry"]["id"] == "F0001"
    assert "aviso:" in result.stderr and str(config) in result.stderr
    assert run("ask", "--offline", "F0001").exit_code == 4  # ask still says what is wrong


# ---------------------------------------------------------------- the reader's language


@pytest.mark.parametrize(
    ("command", "code"),
    [("fault", "F0001"), ("param", "2202"), ("param", "3005"), ("fault", "F0003")],
)
def test_spanish_sheet_is_spanish_throughout(command: str, code: str) -> None:
    result = run(command, code, "--lang", "es")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "(en inglés)" not in text and "Datos:" in text
    assert "Parámetros/códigos relacionados:\n- [" in text
    # an English fact label would show as "trip level:", "range:", "default:"
    assert not any(label in text for label in ("trip level:", "- range:", "- default:"))


def test_related_ids_carry_their_titles_in_the_readers_language() -> None:
    es = run("param", "2202", "--lang", "es").stdout
    en = run("param", "2202", "--lang", "en").stdout
    assert "- [2205] Tiempo de aceleración 2" in es
    assert "- [2205] Acceleration time 2" in en


def test_json_facts_and_gaps_follow_the_language() -> None:
    es = json.loads(run("param", "2202", "--json", "--lang", "es").stdout)["entry"]
    en = json.loads(run("param", "2202", "--json", "--lang", "en").stdout)["entry"]
    assert "por_defecto" in es["facts"] and "default" in en["facts"]
    assert len(es["facts"]) == len(en["facts"])
    assert es["gaps"][0].startswith("El valor por defecto") and en["gaps"][0].startswith("ACS150")
    assert es["related_titles"]["2205"] == "Tiempo de aceleración 2"
    assert es["related"] == en["related"]  # ids stay ids


def test_spanish_facts_are_indexed_for_search() -> None:
    from omar_cli.knowledge.lang import analyse, entry_columns
    from omar_cli.knowledge.loader import builtin_dir, load_entries

    entry = next(e for e in load_entries(builtin_dir()) if e.id == "2202")
    # "no se conoce" is said only in the Spanish facts of 2202
    assert "conoce" in entry.facts_in("es")["por_defecto"]
    assert analyse("conoce", "es")[0] in entry_columns(entry)[4].split()


@pytest.mark.parametrize("ident", ["F0003", "F0006", "F0009", "F0012", "F0014", "F0015"])
def test_sheets_that_lacked_safety_show_it_in_text_and_json(ident: str) -> None:
    plain = run("fault", ident, "--lang", "es")
    assert "⚠" in plain.stdout and "5 minutos" in plain.stdout
    entry = json.loads(run("fault", ident, "--json", "--lang", "en").stdout)["entry"]
    assert entry["safety"] and "5 minutes" in entry["safety"]


def test_sibling_fault_codes_say_they_are_not_in_the_acs150_table() -> None:
    for code in ("F0010", "F0011"):
        entry = json.loads(run("fault", code, "--json", "--lang", "en").stdout)["entry"]
        assert entry["confidence"] == "unsure" and entry["verify_on_manual"] is True
        assert "F0009 to F0012" in entry["text"]
