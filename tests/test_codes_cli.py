"""`omar codes`: what the built-in knowledge holds, per kind, in the reader's language."""

from __future__ import annotations

import json

from typer.testing import CliRunner, Result

from omar_cli.cli.app import app
from omar_cli.knowledge.catalog import catalog
from omar_cli.knowledge.loader import builtin_dir, load_entries


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_json_lists_every_builtin_entry_once() -> None:
    result = run("codes", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["ok"] is True and doc["command"] == "codes" and doc["schema"] == 1
    ids = [row["id"] for row in doc["entries"]]
    assert len(ids) == len(set(ids)) == doc["count"] == len(load_entries(builtin_dir()))
    assert set(doc["entries"][0]) == {"id", "kind", "name", "title", "confidence"}


def test_kind_filter_and_numeric_order() -> None:
    doc = json.loads(run("codes", "--kind", "fault", "--json", "--lang", "en").stdout)
    ids = [row["id"] for row in doc["entries"]]
    assert {row["kind"] for row in doc["entries"]} == {"fault"}
    assert ids.index("F0009") < ids.index("F0010") < ids.index("F0101")
    f1 = doc["entries"][0]
    assert (f1["id"], f1["name"], f1["title"], f1["confidence"]) == (
        "F0001",
        "OVERCURRENT",
        "Overcurrent",
        "acs150",
    )


def test_plain_output_in_spanish_with_confidence_words() -> None:
    result = run("codes", "--kind", "fault", "--lang", "es")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("F0001") and "Sobrecorriente" in lines[0] and "(ACS150)" in lines[0]
    assert any(line.startswith("F0010") and "(no confirmado)" in line for line in lines)
    assert "\x1b[" not in result.stdout


def test_unknown_kind_is_an_input_error() -> None:
    result = run("codes", "--kind", "nonsense", "--json")
    assert result.exit_code != 0
    assert json.loads(result.stdout)["ok"] is False


def test_catalog_groups_by_kind() -> None:
    rows = catalog(load_entries(builtin_dir()), "es")
    kinds = [row.kind for row in rows]
    assert kinds.index("fault") < kinds.index("alarm") < kinds.index("parameter")
    assert kinds == sorted(kinds, key=kinds.index)  # each kind in one block
