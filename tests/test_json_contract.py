"""The `--json` contract: the exact keys of every command's JSON output, nested items included.

Renaming, adding or dropping a field fails here: change the pinned set on purpose, and say so
in the README, because scripts read these. Every command runs in-process against the
scripted model; the envelope keys (schema, command, ok) come with every document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scripted_support import ScriptedCli, as_json, scripted_services
from typer.testing import CliRunner

from omar_cli.cli.app import app
from omar_cli.errors import NetworkError
from omar_cli.llm.model import ImagePart
from omar_cli.llm.scripted import ScriptedModel

ENVELOPE = {"schema", "command", "ok"}
ERROR = {"code", "type", "message", "hint"}
#: match: strong (the entry answers) or weak (possibly related), issue 6
SOURCE = {"id", "kind", "title", "confidence", "source", "cited", "safety_conflict", "match"}
CONFLICT = {"rule", "sentence", "note"}
USAGE = {"prompt_tokens", "completion_tokens", "total_tokens"}
ASK = {
    "session_id",
    "question_id",
    "message_id",
    "answer",
    "sources",
    "mode",
    "status",
    "lang",
    "model",
    "profile",
    "usage",
    "latency_ms",
    "prompt_version",
    "new_session",
    "queued",
    "safety_note",
    "unknown_citations",
    "also_given",
    "conflict_note",
    "length_note",
    "offline_answer",
    "error",
    "not_saved",
}
MESSAGE = {
    "id",
    "session_id",
    "seq",
    "role",
    "text",
    "status",
    "created_at",
    "updated_at",
    "model",
    "usage",
    "latency_ms",
    "media",
    "sources",
    "mode",
    "reply_to",
    "error",
    "review",
    "provenance",
    "lease",
    "meta",
}
REVIEW = {"state", "corrected_text", "note", "reviewer", "at", "withdrawn_by", "withdrawn_at"}
PROVENANCE = {
    "model_text",
    "safety_note",
    "grounding",
    "prompt_version",
    "endpoint_host",
    "request",
    "finish_reason",
}
GROUNDING = {"entry_ids", "sha256", "text"}
REQUEST = {
    "model",
    "profile",
    "system",
    "temperature",
    "max_tokens",
    "stream",
    "history",
    "history_media",
    "unknown_block",
    "sha256",
}
LEASE = {"owner", "expires_at"}
PROFILE_PUBLIC = {
    "name",
    "base_url",
    "model",
    "vision_model",
    "transcription_model",
    "timeout",
    "api_key_env",
    "context_window",
    "implicit",
    "api_key_set",
}
PROFILE_ROW = {
    "name",
    "endpoint",
    "in_fallback_order",
    "api_key_env",
    "api_key_set",
    "models",
    "context_window",
    "timeout",
    "ok",
    "latency_ms",
    "error",
}
ENTRY = {
    "id",
    "kind",
    "name",
    "title",
    "text",
    "causes",
    "checks",
    "safety",
    "related",
    "related_titles",
    "hex_code",
    "facts",
    "gaps",
    "confidence",
    "verify_on_manual",
    "provenance",
    "sources",
    "lang",
}
ENTRY_SOURCE = {"doc", "page", "ref", "drive", "section"}
DOCUMENT = {
    "id",
    "title",
    "filename",
    "sha256",
    "kind",
    "pages",
    "chunks",
    "added_at",
    "drive",
}
SETTING = {"value", "origin", "env"}
JPEG = b"\xff\xd8\xff\xe0" + b"photo-of-the-display"


@pytest.fixture
def omar(model: ScriptedModel) -> ScriptedCli:
    return ScriptedCli(model)


def run(omar: ScriptedCli, *args: str, code: int = 0) -> dict[str, Any]:
    result = omar(*args, "--json")
    assert result.exit_code == code, result.stderr
    doc = as_json(result)
    assert set(doc) >= ENVELOPE and doc["ok"] is (code == 0)
    return doc


def keys(doc: dict[str, Any], *payload: str) -> None:
    assert set(doc) == ENVELOPE | set(payload)


def test_ask(omar: ScriptedCli, model: ScriptedModel, tmp_path: Path) -> None:
    note = tmp_path / "taller.md"
    note.write_text(
        "# Cortocircuito en el cable del motor\n\nCon cortocircuito en el cable del motor "
        "no hace falta esperar: mida el aislamiento con el variador conectado.\n",
        encoding="utf-8",
    )
    assert CliRunner().invoke(app, ["knowledge", "add", str(note)]).exit_code == 0
    model.enqueue("Mida el aislamiento del cable [F0004].")
    doc = run(omar, "ask", "cortocircuito en el cable del motor, aislamiento")
    keys(doc, *ASK)
    assert set(doc["usage"]) == USAGE
    items = doc["sources"] + doc["also_given"]
    assert items and all(set(s) == SOURCE for s in items)
    conflicts = [c for s in items for c in s["safety_conflict"]]
    assert conflicts and all(set(c) == CONFLICT for c in conflicts)


def test_ask_failing_and_the_error_envelope(omar: ScriptedCli, model: ScriptedModel) -> None:
    model.enqueue_error(NetworkError("cannot reach the endpoint", hint="check the network"))
    doc = run(omar, "ask", "F0002", code=14)
    keys(doc, *ASK)
    assert set(doc["error"]) == ERROR
    usage = omar("ask", "--json")  # no question: a usage error, same envelope
    assert set(as_json(usage)) == ENVELOPE | {"error"}


def test_sync(omar: ScriptedCli, model: ScriptedModel) -> None:
    run(omar, "ask", "F0001", "--offline", "--queue")
    run(omar, "ask", "F0002", "--offline", "--queue")
    model.enqueue("Vea [F0001].")
    model.enqueue_error(NetworkError("cannot reach the endpoint"))
    doc = run(omar, "sync", code=14)
    keys(doc, "answered", "failed", "remaining", "items", "error")
    assert [set(i) for i in doc["items"]] == [
        {
            "question_id",
            "session_id",
            "status",
            "question",
            "answer",
            "message_id",
            "error",
            "engine",
        }
    ]
    assert set(doc["error"]) == ERROR


def test_sessions_list_and_detail(omar: ScriptedCli, model: ScriptedModel) -> None:
    model.enqueue("Veo F0002 [F0002].")
    model.enqueue_error(NetworkError("down"))
    svc = scripted_services(model)
    asked = svc.assistant.ask("¿qué muestra?", images=[ImagePart.from_bytes(JPEG)])
    pending = svc.assistant.ask("¿y ahora?", session_id=asked.session_id)
    assert svc.store.claim(pending.question_id) is not None  # as sync holds it: a lease
    listed = run(omar, "sessions")
    keys(listed, "sessions")
    assert [set(s) for s in listed["sessions"]] == [
        {"id", "created_at", "updated_at", "messages", "pending", "first_question"}
    ]
    doc = run(omar, "sessions", asked.session_id)
    keys(doc, "session", "messages", "damaged")
    assert set(doc["session"]) == {
        "id",
        "created_at",
        "updated_at",
        "title",
        "message_count",
        "pending_count",
        "meta",
    }
    assert all(set(m) == MESSAGE for m in doc["messages"])
    question, answer, *_ = doc["messages"]
    assert len(question["media"]) == 1
    assert set(answer["review"]) == REVIEW and set(answer["usage"]) == USAGE
    assert set(answer["provenance"]) == PROVENANCE
    assert set(answer["provenance"]["grounding"]) == GROUNDING
    assert set(answer["provenance"]["request"]) == REQUEST
    leased = [m["lease"] for m in doc["messages"] if m["lease"]]
    assert leased and all(set(lease) == LEASE for lease in leased)


def test_status(omar: ScriptedCli) -> None:
    doc = run(omar, "status")
    keys(
        doc,
        "api_key",
        "access",
        "endpoint",
        "endpoint_default",
        "models",
        "endpoint_ok",
        "endpoint_latency_ms",
        "endpoint_error",
        "paths",
        "store",
        "profiles",
        "local_transcription",
    )
    assert [set(p) for p in doc["profiles"]] == [PROFILE_ROW]
    assert set(doc["local_transcription"]) == LOCAL_TRANSCRIPTION
    assert set(doc["models"]) == {"chat", "vision", "transcription", "transcription_language"}
    assert set(doc["paths"]) == {"data", "config", "cache", "log"}
    assert set(doc["store"]) == {
        "path",
        "size_bytes",
        "sessions",
        "messages",
        "pending",
        "answered",
        "avg_latency_ms",
        "damaged",
        "rebuilt",
    }


def test_config(omar: ScriptedCli) -> None:
    shown = run(omar, "config", "show")
    keys(shown, "file", "settings", "api_key")
    assert all(set(row) == SETTING for row in [*shown["settings"].values(), shown["api_key"]])
    assert "model" in shown["settings"] and "api_key" not in shown["settings"]
    keys(run(omar, "config", "set", "model", "gpt-x"), "key", "value", "file")
    keys(run(omar, "config", "unset", "model"), "key", "file")
    added = run(omar, "config", "profile", "add", "local", "--base-url", "http://127.0.0.1:9/v1")
    keys(added, "profile", "values", "file")
    listed = run(omar, "config", "profile", "list")
    keys(listed, "profiles", "order")
    assert [set(p) for p in listed["profiles"]] == [PROFILE_PUBLIC]
    keys(run(omar, "config", "profile", "remove", "local"), "profile", "file")
    keys(run(omar, "config", "path"), "file")


@pytest.mark.parametrize(
    ("command", "code"), [("fault", "F0002"), ("alarm", "A2001"), ("param", "2203")]
)
def test_look_ups(omar: ScriptedCli, command: str, code: str) -> None:
    doc = run(omar, command, code)
    keys(doc, "entry")
    assert set(doc["entry"]) == ENTRY
    assert all(set(s) == ENTRY_SOURCE for s in doc["entry"]["sources"])


def test_search_and_codes(omar: ScriptedCli) -> None:
    found = run(omar, "search", "sobretensión al frenar")
    keys(found, "query", "lang", "hits", "unknown_codes", "warnings")
    assert found["hits"] and all(
        set(h) == {"id", "kind", "title", "text", "score", "confidence", "source", "match"}
        for h in found["hits"]
    )
    unknown = run(omar, "search", "F0090")["unknown_codes"]
    assert unknown and set(unknown[0]) == {"code", "suggestions"}
    codes = run(omar, "codes")
    keys(codes, "lang", "kind", "count", "entries")
    assert all(set(e) == {"id", "kind", "name", "title", "confidence"} for e in codes["entries"])


def test_knowledge(omar: ScriptedCli, tmp_path: Path) -> None:
    note = tmp_path / "nota.md"
    note.write_text("# Mi nota\n\nEl F0002 aparece al frenar; revise 2203.\n", encoding="utf-8")
    added = run(omar, "knowledge", "add", str(note))
    keys(added, "document")
    assert set(added["document"]) == DOCUMENT
    listed = run(omar, "knowledge", "list")
    keys(listed, "documents")
    assert [set(d) for d in listed["documents"]] == [DOCUMENT]
    removed = run(omar, "knowledge", "remove", added["document"]["id"], "--yes")
    keys(removed, "document")
    assert set(removed["document"]) == DOCUMENT


IMAGE = {"source", "width", "height", "bytes", "sha256", "mime", "detail", "original"}
IMAGE |= {"orientation_applied", "metadata_removed"}
LINKED = {"id", "kind", "name", "title", "source", "confidence", "found_in", "summary", "command"}


def test_image(omar: ScriptedCli, tmp_path: Path) -> None:
    from photos import camera_jpeg

    photo = tmp_path / "panel.jpg"
    photo.write_bytes(camera_jpeg(640, 480))
    doc = run(omar, "image", str(photo), "--offline", "-q", "F0002 en pantalla")
    extra = {"question", "default_question", "linked", "no_vision", "images", "image"}
    keys(doc, *ASK, *extra)
    assert [set(i) for i in doc["images"]] == [IMAGE] and set(doc["image"]) == IMAGE
    assert set(doc["images"][0]["original"]) == {"sha256", "bytes", "width", "height", "format"}
    assert doc["linked"] and all(set(found) == LINKED for found in doc["linked"])


def test_show(omar: ScriptedCli) -> None:
    doc = run(omar, "show", "F0002")
    keys(doc, "entry")
    assert set(doc["entry"]) == ENTRY


LOCAL_TRANSCRIPTION = {"engine", "installed", "model", "kind", "present", "compute_type"}
LOCAL_TRANSCRIPTION |= {"problem", "hint", "available"}
#: what made a transcript: the JSON's transcription_engine and the stored one
ENGINE = {"name", "model", "compute_type", "profile", "endpoint"}
VOICE = {
    "session_id",
    "recording_id",
    "transcript",
    "transcription_model",
    "transcription_engine",
    "transcript_repeated",
    "language",
    "transcription_latency_ms",
    "parts",
    "queued",
    "asked",
    "abandoned",
    "stop_reason",
    "kept_at",
    "silent",
    "duration_s",
    "sample_rate",
    "file_size",
    "audio",
    "new_session",
    "error",
}
AUDIO = {"path", "sha256", "bytes", "format", "duration", "sample_rate", "channels"}
AUDIO |= {"peak_dbfs", "sound_seconds", "silent"}
DEVICE = {"index", "name", "channels", "default_sample_rate", "host_api", "default"}


def test_voice_commands(
    model: ScriptedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audio_fakes import FakeStream, factory_of, tone, wav_bytes
    from scripted_support import _Current

    from omar_cli import audio
    from omar_cli.cli.context import AppState
    from omar_cli.cli.output import Output

    def voice(*args: str, code: int = 0) -> dict[str, Any]:
        output = Output(stdout=_Current("stdout"), stderr=_Current("stderr"))  # type: ignore[arg-type]
        svc = scripted_services(model)
        svc.audio_input = factory_of(FakeStream(tone(3)))
        state = AppState(services=svc, output=output)
        result = CliRunner().invoke(app, [*args, "--json"], obj=state)
        assert result.exit_code == code, result.stderr
        doc = as_json(result)
        assert set(doc) >= ENVELOPE and doc["ok"] is (code == 0)
        return doc

    model.enqueue_transcript("F0002 al frenar")
    doc = voice("record-and-transcribe", "--seconds", "1")
    keys(doc, *VOICE)
    assert set(doc["audio"]) == AUDIO
    assert set(doc["transcription_engine"]) == ENGINE
    model.enqueue_transcript("¿Qué es F0002?")
    model.enqueue("Sobretensión [F0002].")
    note = tmp_path / "nota.wav"
    note.write_bytes(wav_bytes(tone(1)))
    doc = voice("transcribe", str(note), "--ask")
    keys(doc, *ASK, *VOICE)
    model.enqueue_transcribe_error(NetworkError("down"))
    doc = voice("transcribe", str(note), code=14)
    keys(doc, *VOICE)
    assert set(doc["error"]) == ERROR
    found = audio.InputDevice(0, "pulse", 32, 44100.0, "ALSA", True)
    monkeypatch.setattr(audio, "list_input_devices", lambda: [found])
    doc = voice("devices")
    keys(doc, "devices")
    assert [set(d) for d in doc["devices"]] == [DEVICE]


REVIEW_ROW = {"id", "created_at", "updated_at", "duration_s", "title", "first_question", "codes"}
REVIEW_ROW |= {"photos", "recordings", "pending", "approved", "rejected", "edited", "withdrawn"}
#: review show's field_knowledge rows: where each approved item stands
FIELD_ROW = {"item", "entry_id", "status", "conflicts"}
#: a note's structure (note_structure.py); queued: the local parse only
STRUCTURE_QUEUED = {"codes", "parameters", "status", "lang"}
STRUCTURE_DONE = STRUCTURE_QUEUED | {"symptom", "action", "machine", "unknown"}
STRUCTURE_DONE |= {"model", "profile", "latency_ms", "version"}


def test_review(omar: ScriptedCli, model: ScriptedModel) -> None:
    model.enqueue("Sobretensión [F0002].")
    asked = run(omar, "ask", "F0002")
    for command in (("review",), ("review", "list")):
        listed = run(omar, *command)
        keys(listed, "sessions")
        assert [set(s) for s in listed["sessions"]] == [REVIEW_ROW]
    shown = run(omar, "review", "show", asked["session_id"][:12])
    keys(shown, "session", "messages", "damaged", "field_knowledge")
    assert all(set(m) == MESSAGE for m in shown["messages"])
    item = asked["message_id"]
    verdicts = (("approve", item), ("reject", item), ("edit", item, "--text", "Otra."))
    for verdict in (*verdicts, ("withdraw", item)):
        done = run(omar, "review", *verdict)
        keys(done, "item")
        assert set(done["item"]) == MESSAGE and set(done["item"]["review"]) == REVIEW
    shown = run(omar, "review", "show", asked["session_id"])
    assert [set(row) for row in shown["field_knowledge"]] == [FIELD_ROW]


def test_review_import(omar: ScriptedCli, model: ScriptedModel, tmp_path: Path) -> None:
    model.enqueue("Sobretensión [F0002].")
    run(omar, "ask", "F0002")
    bundle = tmp_path / "equipo.omar"
    assert omar("review", "export", "--bundle", str(bundle)).exit_code == 0
    doc = run(omar, "review", "import", str(bundle))
    keys(doc, "imported")
    assert set(doc["imported"]) == {
        "sessions_added",
        "sessions_merged",
        "messages_added",
        "reviews_updated",
        "media_added",
        "conflicts",
    }


def test_review_rm(omar: ScriptedCli, model: ScriptedModel) -> None:
    model.enqueue("Sobretensión [F0002].")
    asked = run(omar, "ask", "F0002")
    doc = run(omar, "review", "rm", asked["session_id"], "--yes")
    keys(doc, "removed")
    assert set(doc["removed"]) == {"sessions", "media"}


def test_note(omar: ScriptedCli, model: ScriptedModel) -> None:
    doc = run(omar, "note", "F0002 resuelto alargando 2203", "--offline")
    keys(doc, "note", "structure", "queued", "error")
    assert set(doc["note"]) == MESSAGE and set(doc["note"]["review"]) == REVIEW
    assert set(doc["structure"]) == STRUCTURE_QUEUED
    assert [set(p) for p in doc["structure"]["parameters"]] == [{"id", "value"}]
    model.enqueue('{"codes": ["F0002"], "parameters": [], "symptom": null, "action": "rampa",'
                  ' "machine": null}')  # fmt: skip
    doc = run(omar, "note", "F0002 resuelto alargando 2203")
    assert set(doc["structure"]) == STRUCTURE_DONE and doc["error"] is None


def test_every_command_with_json_is_pinned_here() -> None:
    """A new command with --json must join this module."""
    import typer.main

    group = typer.main.get_command(app)
    found = set()

    def walk(command: Any, path: str) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}".strip())
        if any("--json" in getattr(p, "opts", ()) for p in getattr(command, "params", ())):
            found.add(path)

    walk(group, "")
    pinned = {
        "ask",
        "sync",
        "sessions",
        "status",
        "config show",
        "config set",
        "config unset",
        "config path",
        "config profile add",
        "config profile remove",
        "config profile list",
        "fault",
        "alarm",
        "param",
        "search",
        "codes",
        "knowledge add",
        "knowledge list",
        "knowledge remove",
        "image",
        "show",
        "record-and-transcribe",
        "transcribe",
        "devices",
        "review",
        "review list",
        "review show",
        "review approve",
        "review reject",
        "review edit",
        "review import",
        "review rm",
        "review withdraw",
        "note",
    }
    assert found == pinned
