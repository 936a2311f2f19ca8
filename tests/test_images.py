"""Photos before they leave the laptop (omar_cli/images.py), and a question about them through
the assistant core against the scripted model (omar_cli/image_answers.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from photos import (
    RED,
    camera_jpeg,
    encoded,
    has_metadata,
    opened,
    png_header_only,
    png_with_alpha,
)
from PIL import Image
from scripted_support import scripted_services

from omar_cli import images
from omar_cli.errors import InputError, NetworkError, NotFoundError, NoVisionError
from omar_cli.image_answers import ask_about_photos
from omar_cli.images import (
    FIT_BOX,
    LOW_BOX,
    SHORT_SIDE,
    PreparedImage,
    default_question,
    prepare_image,
    read_sources,
    target_size,
)
from omar_cli.llm.scripted import ScriptedModel
from omar_cli.results import Problem
from omar_cli.services import Services


@pytest.fixture
def svc(model: ScriptedModel) -> Services:
    return scripted_services(model)


def prepared(data: bytes, detail: str = "auto", label: str = "foto.jpg") -> PreparedImage:
    return prepare_image(data, label, detail, "es")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- pre-processing


def test_a_camera_photo_is_sent_upright_small_and_without_metadata() -> None:
    original = camera_jpeg(1600, 1200, orientation=6)
    assert {"exif", "comment", "raw bytes"} <= set(has_metadata(original))  # the check works
    photo = prepared(original)
    sent = opened(photo.part.data)
    assert photo.part.mime == "image/jpeg" and sent.format == "JPEG"
    # orientation 6: stored sideways, shown turned 90° clockwise, so portrait
    assert sent.size == (photo.sent.width, photo.sent.height) == (768, 1024)
    assert sent.getpixel((sent.width - 40, 40)) == pytest.approx(RED, abs=25)  # top-right
    assert sent.getpixel((40, 40)) != pytest.approx(RED, abs=25)
    assert has_metadata(photo.part.data) == []
    assert {"exif", "gps", "comment"} <= set(photo.stripped)
    assert (photo.orientation, photo.original_width, photo.original_height) == (6, 1600, 1200)
    assert photo.original == original and photo.sent.bytes == len(photo.part.data)


@pytest.mark.parametrize(
    ("size", "detail", "expected"),
    [
        ((4000, 3000), "auto", (1024, 768)),
        ((4000, 3000), "high", (1024, 768)),
        ((4000, 3000), "low", (512, 384)),
        ((8000, 1000), "auto", (2048, 256)),  # the long side caps first
        ((640, 480), "auto", (640, 480)),  # never enlarged
        ((640, 480), "low", (512, 384)),
    ],
)
def test_sizes_follow_what_the_vision_model_uses(
    size: tuple[int, int], detail: str, expected: tuple[int, int]
) -> None:
    assert target_size(*size, detail) == expected  # type: ignore[arg-type]
    w, h = expected
    if detail == "low":
        assert max(w, h) <= LOW_BOX
    else:
        assert max(w, h) <= FIT_BOX and min(w, h) <= SHORT_SIDE


def test_low_detail_sends_one_small_tile() -> None:
    photo = prepared(camera_jpeg(1600, 1200, orientation=1), detail="low")
    assert (photo.sent.width, photo.sent.height, photo.sent.detail) == (512, 384, "low")
    assert photo.part.detail == "low"


def test_transparency_is_flattened_on_white_and_sent_as_jpeg() -> None:
    photo = prepared(png_with_alpha(), label="captura.png")
    sent = opened(photo.part.data)
    assert (photo.format, sent.format, sent.mode) == ("PNG", "JPEG", "RGB")
    assert sent.getpixel((sent.width - 5, 5)) == pytest.approx((255, 255, 255), abs=6)
    assert sent.getpixel((5, 5)) == pytest.approx((0, 120, 0), abs=12)


@pytest.mark.parametrize("fmt", ["WEBP", "GIF"])
def test_webp_and_gif_are_taken(fmt: str) -> None:
    photo = prepared(encoded(Image.new("RGB", (900, 600), (200, 10, 10)), fmt))
    assert photo.format == fmt and opened(photo.part.data).size == (900, 600)


def test_a_heic_photo_is_read_with_the_optional_plugin() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")  # the `heic` extra, part of `dev`
    pillow_heif.register_heif_opener()
    photo = prepared(encoded(Image.new("RGB", (1200, 900), (10, 10, 200)), "HEIF"))
    assert (photo.format, photo.suffix, photo.part.mime) == ("HEIF", "heic", "image/jpeg")
    assert opened(photo.part.data).size == (1024, 768)


# --------------------------------------------------------------------------- bad input


def test_a_truncated_photo_is_refused() -> None:
    whole = camera_jpeg()
    with pytest.raises(InputError, match="truncada o dañada"):
        prepared(whole[: len(whole) // 2])


def test_what_is_not_an_image_is_refused() -> None:
    with pytest.raises(InputError, match="no es una imagen"):
        prepared(b"%PDF-1.7\n" + b"x" * 200)


@pytest.mark.parametrize(("fmt", "name"), [("BMP", "BMP"), ("TIFF", "TIFF")])
def test_an_unsupported_format_is_named(fmt: str, name: str) -> None:
    with pytest.raises(InputError, match=f"formato {name} no admitido"):
        prepared(encoded(Image.new("RGB", (50, 50)), fmt))


@pytest.mark.parametrize("size", [(10_000, 9_000), (30_000, 30_000)])
def test_a_decompression_bomb_is_refused_from_its_header(size: tuple[int, int]) -> None:
    # 90 MP: Pillow only warns; 900 MP: Pillow raises. Both refused, nothing decoded.
    bomb = png_header_only(*size)
    assert len(bomb) < 200
    with pytest.raises(InputError, match=f"\\({size[0] * size[1] // 1_000_000} megapíxeles"):
        prepared(bomb)


def test_a_heic_photo_without_the_plugin_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(images, "_heif_tried", True)
    monkeypatch.setattr(images, "_heif_available", False)
    fake_heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(InputError, match="HEIC") as caught:
        prepared(fake_heic)
    assert caught.value.hint and "omar-cli[heic]" in caught.value.hint


def test_a_huge_file_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 10_000)
    path = tmp_path / "grande.jpg"
    path.write_bytes(camera_jpeg())
    decoded: list[object] = []
    monkeypatch.setattr(images, "prepare_image", lambda *a: decoded.append(a))
    with pytest.raises(InputError, match="demasiado grande"):
        read_sources([str(path)], io.BytesIO(), "es")
    with pytest.raises(InputError, match="demasiado grande"):
        read_sources(["-"], io.BytesIO(b"\xff" * 20_000), "es")
    assert decoded == []


def test_missing_unreadable_and_empty_paths_are_refused(tmp_path: Path) -> None:
    (tmp_path / "vacia.jpg").write_bytes(b"")
    for name, said in [
        ("nada.jpg", "no se puede leer"),
        (".", "no se puede leer"),
        ("vacia.jpg", "vacío"),
    ]:
        with pytest.raises(InputError, match=said):
            read_sources([str(tmp_path / name)], io.BytesIO(), "es")
    with pytest.raises(InputError, match="only once"):
        read_sources(["-", "-"], io.BytesIO(b"x"), "en")


# --------------------------------------------------------------------------- through the core


def test_the_original_is_stored_and_what_was_sent_is_recorded(
    svc: Services, model: ScriptedModel
) -> None:
    original = camera_jpeg()
    photo = prepared(original)
    model.enqueue("La pantalla muestra F0002 [F0002]. Alargue la deceleración [2203].")
    result = ask_about_photos(svc.assistant, [photo], "¿Qué muestra?", lang="es")
    request = model.last_request
    assert request.model == svc.settings.vision_model
    assert [i.data for i in request.messages[-1].images] == [photo.part.data]
    question = svc.store.get_message(result.ask.question_id)
    assert svc.store.media_path(question.media[0]).read_bytes() == photo.part.data
    stored = question.meta["images"][0]
    assert stored["sha256"] == photo.sent.sha256 and stored["bytes"] == photo.sent.bytes
    assert svc.store.media_path(stored["original"]["sha256"]).read_bytes() == original
    assert {"F0002", "2203"} <= {e.id for e in result.linked}
    assert [s.id for s in result.sources][:2] == ["F0002", "2203"]


def test_a_type_code_in_the_answer_gives_the_drive_rating(
    svc: Services, model: ScriptedModel
) -> None:
    model.enqueue("La placa dice ACS150-03E-04A7-2, 3 fases 200-240 V.")
    result = ask_about_photos(svc.assistant, [prepared(camera_jpeg())], None, lang="es")
    rating = next(e for e in result.linked if e.kind == "rating")
    assert rating.id == "rating-03x-04a7-2" and rating.found_in == "answer"
    assert rating.summary and "4,7 A" in rating.summary
    assert "rating-03x-04a7-2" in [s.id for s in result.sources]
    stored = svc.store.get_message(result.ask.message_id)
    assert "rating-03x-04a7-2" in stored.sources


@pytest.mark.parametrize("lang", ["es", "en"])
def test_no_question_asks_the_default_in_the_configured_language(
    svc: Services, model: ScriptedModel, lang: str
) -> None:
    model.enqueue("OK.")
    result = ask_about_photos(svc.assistant, [prepared(camera_jpeg())], "  ", lang=lang)
    assert result.default_question and result.question == default_question(lang)
    assert model.last_request.last_text.endswith(f"QUESTION: {default_question(lang)}")
    assert "KNOWLEDGE" in model.last_request.last_text


def test_offline_a_named_code_gets_its_offline_answer_at_once(
    svc: Services, model: ScriptedModel
) -> None:
    result = ask_about_photos(
        svc.assistant, [prepared(camera_jpeg())], "F0002 en pantalla", lang="es", offline=True
    )
    assert (result.ask.mode, result.ask.queued, model.requests) == ("offline", True, [])
    assert result.reply.startswith("Respuesta sin conexión") and "[F0002]" in result.reply
    assert result.linked[0].id == "F0002" and result.linked[0].found_in == "question"


def test_offline_without_a_code_says_the_photo_is_queued_and_sync_sends_it(
    svc: Services, model: ScriptedModel
) -> None:
    photo = prepared(camera_jpeg(), detail="low")
    result = ask_about_photos(svc.assistant, [photo], None, lang="es", offline=True)
    assert "en cola" in result.reply and result.sources == ()
    assert svc.store.get_message(result.ask.message_id).text == result.reply
    assert [m.id for m in svc.store.pending()] == [result.ask.question_id]
    model.enqueue("Veo la placa [rating-03x-04a7-2].")
    assert svc.assistant.sync().answered == 1
    sent = model.last_request.messages[-1].images
    # sync sends the stripped copy, at the detail asked for, never the original
    assert [(i.data, i.detail) for i in sent] == [(photo.part.data, "low")]
    assert model.last_request.model == svc.settings.vision_model


def test_a_network_failure_keeps_the_photo_queued(svc: Services, model: ScriptedModel) -> None:
    model.enqueue_error(NetworkError("cannot reach the endpoint"))
    result = ask_about_photos(svc.assistant, [prepared(camera_jpeg())], "¿Qué es?", lang="es")
    assert result.ask.queued and "en cola" in result.reply
    assert result.ask.error == Problem.of(NetworkError("cannot reach the endpoint"))


def test_an_endpoint_without_vision_is_named_and_the_photo_stays_queued(
    svc: Services, model: ScriptedModel
) -> None:
    model.enqueue_error(NoVisionError("local (HTTP 400) cannot read images"))
    result = ask_about_photos(svc.assistant, [prepared(camera_jpeg())], None, lang="en")
    assert result.no_vision and result.ask.queued
    assert "takes no images" in result.reply
    assert svc.store.get_message(result.ask.question_id).status == "pending"
    model.enqueue_error(NoVisionError("still no vision"))
    report = svc.assistant.sync()
    assert report.error == Problem.of(NoVisionError("still no vision")) and report.remaining == 1
    assert [m.id for m in svc.store.pending()] == [result.ask.question_id]


def test_a_refused_question_or_session_stores_no_photo(svc: Services, model: ScriptedModel) -> None:
    photo = prepared(camera_jpeg())
    with pytest.raises(InputError, match="demasiado larga"):
        ask_about_photos(svc.assistant, [photo], "x" * 9000, lang="es")
    with pytest.raises(NotFoundError):
        ask_about_photos(
            svc.assistant, [photo], "¿qué es?", lang="es", session_id="20260101-000000-abcd"
        )
    media = svc.settings.paths.store / "media"
    assert not media.exists() and model.requests == []
    model.enqueue("Veo el panel.")
    ask_about_photos(svc.assistant, [photo], "¿qué es?", lang="es")
    assert len(list(media.rglob("*.jpg"))) == 2  # the original and the sent copy
