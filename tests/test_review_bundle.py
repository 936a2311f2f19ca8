"""Team hand-over: a bundle written on one laptop, merged on another, twice, or refused."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from scripted_support import ScriptedCli, as_json

from omar_cli.llm.scripted import ScriptedModel


@pytest.fixture
def omar(model: ScriptedModel) -> ScriptedCli:
    return ScriptedCli(model)


def laptop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> Path:
    data = tmp_path / name
    monkeypatch.setenv("OMAR_DATA_DIR", str(data))
    return data


def dump(omar: ScriptedCli) -> dict[str, Any]:
    result = omar("review", "export", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc


def messages_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for s in doc["sessions"] for m in s["messages"]]


def store_files(data: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(data)): p.read_bytes()
        for p in sorted(data.rglob("*"))
        if p.is_file() and p.name not in {".lock", ".sync.lock"}
    }


def test_bundle_round_trip_is_idempotent(
    omar: ScriptedCli, model: ScriptedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from photos import camera_jpeg

    laptop(monkeypatch, tmp_path, "tecnico")
    photo = tmp_path / "panel.jpg"
    photo.write_bytes(camera_jpeg(64, 48))
    model.enqueue("Veo F0002 en el panel [F0002].")
    shot = as_json(omar("image", str(photo), "-q", "¿qué muestra?", "--json"))
    model.enqueue("Sobretensión [F0002].")
    asked = as_json(omar("ask", "--new", "¿F0002?", "--json"))
    assert omar("review", "approve", shot["message_id"], "--reviewer", "ana").exit_code == 0
    before = dump(omar)
    bundle = tmp_path / "equipo.omar"
    written = omar("review", "export", "--bundle", str(bundle))
    assert written.exit_code == 0, written.stderr and written.stdout == ""
    assert b"Exif" not in gzip.decompress(bundle.read_bytes())  # only the stripped photo goes

    supervisor = laptop(monkeypatch, tmp_path, "supervisora")
    first = omar("review", "import", str(bundle), "--json")
    assert first.exit_code == 0, first.stderr
    imported = as_json(first)["imported"]
    assert imported["sessions_added"] == 2 and imported["messages_added"] == 4
    assert imported["media_added"] == 1
    originals = [m["meta"].pop("original_media", None) for m in messages_of(before)]
    assert any(originals)  # the camera original (EXIF, GPS) stays on the technician's laptop
    assert dump(omar) == before  # same ids, same messages, same review state
    files = store_files(supervisor)
    again = as_json(omar("review", "import", str(bundle), "--json"))["imported"]
    assert again["sessions_added"] == 0 and again["messages_added"] == 0
    assert again["reviews_updated"] == 0 and again["media_added"] == 0
    assert store_files(supervisor) == files  # nothing changed, byte for byte

    # the supervisor reviews; the technician gets the verdict back, once
    assert omar("review", "reject", asked["message_id"], "--note", "no").exit_code == 0
    back = tmp_path / "vuelta.omar"
    assert omar("review", "export", "--bundle", str(back)).exit_code == 0
    laptop(monkeypatch, tmp_path, "tecnico")
    merged = as_json(omar("review", "import", str(back), "--json"))["imported"]
    assert merged["sessions_merged"] == 2 and merged["reviews_updated"] == 1
    shown = as_json(omar("review", "show", asked["session_id"], "--json"))
    assert shown["messages"][1]["review"]["state"] == "rejected"
    image_msg = as_json(omar("review", "show", shot["session_id"], "--json"))["messages"][0]
    assert image_msg["media"]


@pytest.mark.parametrize("damage", ["cut", "foreign", "altered"])
def test_damaged_or_foreign_bundle_changes_nothing(
    omar: ScriptedCli,
    model: ScriptedModel,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    damage: str,
) -> None:
    laptop(monkeypatch, tmp_path, "tecnico")
    model.enqueue("Sobretensión [F0002].")
    assert omar("ask", "--new", "¿F0002?").exit_code == 0
    bundle = tmp_path / "equipo.omar"
    assert omar("review", "export", "--bundle", str(bundle)).exit_code == 0
    data = bundle.read_bytes()
    if damage == "cut":
        bundle.write_bytes(data[: len(data) // 2])
    elif damage == "foreign":
        bundle.write_bytes(gzip.compress(json.dumps({"hello": 1}).encode()))
    else:
        doc = json.loads(gzip.decompress(data))
        doc["sessions"][0]["messages"][0]["text"] = "otra cosa"
        bundle.write_bytes(gzip.compress(json.dumps(doc).encode()))
    other = laptop(monkeypatch, tmp_path, "supervisora")
    model.enqueue("Sobrecorriente [F0001].")
    assert omar("ask", "--new", "¿F0001?").exit_code == 0
    files = store_files(other)
    result = omar("review", "import", str(bundle))
    assert result.exit_code == 6 and result.stdout == ""
    assert result.stderr.count("error") == 1 and str(bundle) in result.stderr
    assert store_files(other) == files
