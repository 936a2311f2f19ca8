"""`omar image` through the real CLI: end to end against the fake OpenAI server with the real
client (what reaches the server is the point), and the scripted model elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FAKE_KEY
from fake_openai import FakeOpenAIServer, unreachable_base_url
from photos import RED, camera_jpeg, encoded, has_metadata, opened, png_header_only
from PIL import Image
from scripted_support import ScriptedCli, as_json
from typer.testing import CliRunner, Result

from omar_cli.cli.app import app
from omar_cli.errors import ExitCode
from omar_cli.llm.model import ImagePart
from omar_cli.llm.scripted import ScriptedModel
from omar_cli.store import SessionStore

Run = Callable[..., Result]

#: the keys `omar image --json` prints, beyond the envelope: ask's, and the photo's
IMAGE_KEYS = {
    "session_id",
    "question_id",
    "message_id",
    "answer",
    "sources",
    "also_given",
    "unknown_citations",
    "safety_note",
    "conflict_note",
    "length_note",
    "offline_answer",
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
    "error",
    "not_saved",
    "question",
    "default_question",
    "linked",
    "images",
    "image",
    "no_vision",
}
SENT_IMAGE_KEYS = {
    "source",
    "width",
    "height",
    "bytes",
    "sha256",
    "mime",
    "detail",
    "original",
    "orientation_applied",
    "metadata_removed",
}


@pytest.fixture
def omar(
    fake_openai: FakeOpenAIServer, knowledge_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> Run:
    monkeypatch.setenv("OMAR_CACHE_DIR", str(knowledge_cache))
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OMAR_TIMEOUT", "2")
    monkeypatch.setenv("OMAR_MAX_RETRIES", "0")

    def run(*args: str, input: bytes | str | None = None) -> Result:
        return CliRunner().invoke(app, list(args), input=input)

    return run


@pytest.fixture
def scripted(model: ScriptedModel) -> ScriptedCli:
    return ScriptedCli(model)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "panel.jpg"
    path.write_bytes(camera_jpeg(2400, 1800, orientation=6))
    return path


def store(home: Path) -> SessionStore:
    return SessionStore(home / "data" / "store")


def sent_image(request_messages: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The text and the one image part of the last user message."""
    parts = request_messages[-1]["content"]
    assert isinstance(parts, list)
    text = "".join(p["text"] for p in parts if p["type"] == "text")
    (image,) = [p["image_url"] for p in parts if p["type"] == "image_url"]
    return text, image


def test_what_reaches_the_server_is_small_upright_stripped_and_grounded(
    omar: Run, fake_openai: FakeOpenAIServer, photo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMAR_VISION_MODEL", "vision-test")
    fake_openai.enqueue_answer("El panel muestra F0002 [F0002]: alargue 2203 [2203].")
    result = omar("image", str(photo), "-q", "¿Qué indica el panel?", "--json")
    assert result.exit_code == 0, result.stderr
    request = fake_openai.last_request
    assert request.json["model"] == "vision-test" and request.bearer_token == FAKE_KEY
    system = request.messages[0]["content"]
    assert "ACS150" in system and "5 minutes" in system
    text, image = sent_image(request.messages)
    assert "KNOWLEDGE" in text and "QUESTION: ¿Qué indica el panel?" in text
    assert image["url"].startswith("data:image/jpeg;base64,") and image["detail"] == "auto"
    data = ImagePart.from_data_url(image["url"]).data
    sent = opened(data)
    assert sent.size == (768, 1024)  # upright (portrait) and within fit 2048 / short side 768
    assert sent.getpixel((sent.width - 40, 40)) == pytest.approx(RED, abs=25)
    assert has_metadata(data) == []
    doc = as_json(result)
    assert set(doc) == {"schema", "command", "ok", *IMAGE_KEYS}
    assert set(doc["image"]) == SENT_IMAGE_KEYS and doc["images"] == [doc["image"]]
    assert (doc["image"]["width"], doc["image"]["height"], doc["image"]["bytes"]) == (
        768,
        1024,
        len(data),
    )
    assert doc["image"]["original"]["width"] == 2400 and "gps" in doc["image"]["metadata_removed"]
    assert [e["id"] for e in doc["linked"]] == ["F0002", "2203"]
    assert {"F0002", "2203"} <= {s["id"] for s in doc["sources"]}


def test_low_detail_reaches_the_server(
    omar: Run, fake_openai: FakeOpenAIServer, photo: Path
) -> None:
    fake_openai.enqueue_answer("Veo la pantalla.")
    result = omar("image", str(photo), "--detail", "low")
    assert result.exit_code == 0, result.stderr
    _, image = sent_image(fake_openai.last_request.messages)
    assert image["detail"] == "low"
    assert max(opened(ImagePart.from_data_url(image["url"]).data).size) <= 512


def test_a_text_only_endpoint_is_reported_and_the_photo_waits(
    omar: Run, fake_openai: FakeOpenAIServer, photo: Path, isolated_dirs: Path
) -> None:
    message = "Invalid content type. image_url is only supported by certain models."
    fake_openai.enqueue_error(400, message)
    result = omar("image", str(photo))
    assert result.exit_code == ExitCode.BAD_REQUEST
    assert "no acepta imágenes" in result.stdout
    assert "no puede leer imágenes" in result.stderr
    (pending,) = store(isolated_dirs).pending()
    assert pending.media and pending.meta["default_question"] is True
    # sync against the same endpoint keeps it queued and says why
    fake_openai.enqueue_error(400, message)
    synced = omar("sync")
    assert synced.exit_code == ExitCode.BAD_REQUEST
    assert [m.id for m in store(isolated_dirs).pending()] == [pending.id]


def test_offline_then_sync_sends_the_stripped_photo(
    omar: Run,
    fake_openai: FakeOpenAIServer,
    photo: Path,
    monkeypatch: pytest.MonkeyPatch,
    isolated_dirs: Path,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", unreachable_base_url())
    result = omar("image", str(photo), "-q", "¿qué cable falta?", "--json")
    assert result.exit_code == ExitCode.NETWORK
    doc = as_json(result)
    assert doc["queued"] is True and "en cola" in doc["answer"]
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    fake_openai.enqueue_answer("Falta el cable de tierra [F0016].")
    synced = omar("sync", "--json")
    assert synced.exit_code == 0, synced.stderr
    assert as_json(synced)["answered"] == 1
    text, image = sent_image(fake_openai.last_request.messages)
    data = ImagePart.from_data_url(image["url"]).data
    assert "QUESTION: ¿qué cable falta?" in text and has_metadata(data) == []
    assert len(data) == doc["image"]["bytes"]
    original = store(isolated_dirs).media_path(doc["image"]["original"]["sha256"])
    assert original.read_bytes() == photo.read_bytes()


def test_a_photo_on_stdin(scripted: ScriptedCli, model: ScriptedModel) -> None:
    model.enqueue("Veo la placa ACS150-01E-02A4-2.")
    result = scripted("image", "-", input=camera_jpeg(orientation=1))  # type: ignore[arg-type]
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Veo la placa")
    assert "En la base de conocimiento:\n  [rating-01x-02a4-2]" in result.stdout
    assert "Enviado: - → 1024×768 px" in result.stderr


def test_offline_with_a_code_shows_its_answer_and_exits_0(
    scripted: ScriptedCli, model: ScriptedModel, photo: Path
) -> None:
    result = scripted("image", str(photo), "-q", "F0002 en pantalla", "--offline")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Respuesta sin conexión") and "[F0002]" in result.stdout
    assert "(omar fault F0002)" in result.stdout and model.requests == []
    assert "foto en cola" in result.stderr and "Listo para enviar" in result.stderr


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "no se puede leer"),
        (b"just text, no photo", "no es una imagen"),
        (camera_jpeg()[:3000], "truncada o dañada"),
        (png_header_only(30_000, 30_000), "demasiado grande"),
        (encoded(Image.new("RGB", (40, 30)), "BMP"), "formato BMP no admitido"),
    ],
)
def test_bad_input_is_one_line_exit_6_and_nothing_is_stored(
    scripted: ScriptedCli,
    model: ScriptedModel,
    photo: Path,
    tmp_path: Path,
    isolated_dirs: Path,
    content: bytes | None,
    said: str,
) -> None:
    bad = tmp_path / "bad.jpg"
    if content is not None:
        bad.write_bytes(content)
    result = scripted("image", str(photo), str(bad), "--json")  # the good one first
    assert result.exit_code == ExitCode.INPUT
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("omar: error: ") and said in lines[0]
    assert as_json(result)["error"]["code"] == ExitCode.INPUT
    assert model.requests == []
    assert not (isolated_dirs / "data" / "store" / "media").exists()
    assert store(isolated_dirs).list_sessions() == []


def test_english_errors_and_default_question_follow_the_language_setting(
    scripted: ScriptedCli, model: ScriptedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMAR_LANGUAGE", "en")
    result = scripted("image", str(tmp_path / "missing.jpg"))
    assert result.exit_code == ExitCode.INPUT and "cannot read" in result.stderr
    good = tmp_path / "ok.png"
    good.write_bytes(camera_jpeg(orientation=1))
    model.enqueue("It shows the display.")
    assert scripted("image", str(good)).exit_code == 0
    assert "QUESTION: What does this photo of the ACS150 drive show" in (
        model.last_request.last_text
    )


@pytest.mark.parametrize(
    ("status", "message", "no_vision"),
    [
        (500, "image input is not supported - hint: you may need to provide the mmproj", True),
        (400, "llava-text is not a multimodal model", True),
        (400, "Unsupported value: 'temperature' does not support 0.2", False),
    ],
)
def test_how_servers_say_they_have_no_vision(
    omar: Run,
    fake_openai: FakeOpenAIServer,
    photo: Path,
    isolated_dirs: Path,
    status: int,
    message: str,
    no_vision: bool,
) -> None:
    fake_openai.enqueue_error(status, message)
    result = omar("image", str(photo), "--json")
    doc = as_json(result)
    assert doc["no_vision"] is no_vision and doc["queued"] is no_vision
    assert result.exit_code == (ExitCode.BAD_REQUEST if no_vision else doc["error"]["code"])
    pending = store(isolated_dirs).pending()
    assert len(pending) == (1 if no_vision else 0)
