"""The vendor-neutral chat types: message parts, images, audio clips, the scripted model."""

from __future__ import annotations

from pathlib import Path

import pytest

from omar_cli.errors import IncompleteAnswerError, InputError
from omar_cli.llm.model import AudioClip, ChatMessage, ChatModel, ImagePart, TextPart, Usage
from omar_cli.llm.scripted import ScriptedModel

JPEG = b"\xff\xd8\xff\xdb" + b"\x00" * 8
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 "


@pytest.mark.parametrize(
    ("data", "mime", "suffix"),
    [
        (JPEG, "image/jpeg", "jpg"),
        (b"\x89PNG\r\n\x1a\n...", "image/png", "png"),
        (b"GIF89a...", "image/gif", "gif"),
        (WEBP, "image/webp", "webp"),
    ],
)
def test_an_image_type_is_read_from_its_bytes(data: bytes, mime: str, suffix: str) -> None:
    image = ImagePart.from_bytes(data)
    assert (image.mime, image.suffix, image.detail) == (mime, suffix, "auto")
    assert ImagePart.from_data_url(image.data_url) == image


def test_a_data_url_that_is_not_an_image_is_an_input_error() -> None:
    for url in ("https://example.com/a.jpg", "data:text/plain;base64,aGk=", "data:image/png,x"):
        with pytest.raises(InputError):
            ImagePart.from_data_url(url)


def test_image_bytes_stay_out_of_the_repr() -> None:
    assert "\\xff" not in repr(ImagePart.from_bytes(JPEG))


def test_a_message_is_text_then_images() -> None:
    photo = ImagePart.from_bytes(JPEG)
    assert ChatMessage.of("user", "hola").parts == (TextPart("hola"),)
    assert ChatMessage.of("user", "", [photo]).parts == (photo,)
    both = ChatMessage.of("user", "¿qué es?", [photo, photo])
    assert both.parts == (TextPart("¿qué es?"), photo, photo)
    assert (both.text, both.images) == ("¿qué es?", (photo, photo))


def test_an_audio_clip_keeps_its_file_name(tmp_path: Path) -> None:
    path = tmp_path / "nota.wav"
    path.write_bytes(b"RIFF")
    assert AudioClip.read(path) == AudioClip(b"RIFF", "nota.wav")


def test_the_scripted_model_plays_its_script_in_order() -> None:
    model: ChatModel = ScriptedModel()
    assert isinstance(model, ScriptedModel)
    model.enqueue(["Uno ", "dos."], usage=Usage(3, 2, 5))
    model.enqueue_cut(["Tres "])
    model.enqueue_error(KeyboardInterrupt(), after="Cua")
    deltas: list[str] = []
    question = [ChatMessage.of("user", "¿?")]
    result = model.stream_chat(question, model="m1", on_delta=deltas.append, temperature=0.1)
    assert (result.text, result.model, result.finish_reason) == ("Uno dos.", "m1", "stop")
    assert result.usage == Usage(3, 2, 5)
    with pytest.raises(IncompleteAnswerError) as cut:
        model.stream_chat(question, model="m2", on_delta=deltas.append)
    assert cut.value.partial == "Tres "
    with pytest.raises(KeyboardInterrupt):
        model.stream_chat(question, model="m3", on_delta=deltas.append)
    assert deltas == ["Uno ", "dos.", "Tres ", "Cua"]
    assert [(r.model, r.temperature) for r in model.requests] == [
        ("m1", 0.1),
        ("m2", None),
        ("m3", None),
    ]
    assert model.requests[0].messages == tuple(question) and model.pending == 0
    with pytest.raises(LookupError):
        model.stream_chat(question, model="m4")


def test_the_scripted_model_transcribes_and_pings() -> None:
    model = ScriptedModel()
    model.enqueue_transcript("F0001 al arrancar")
    clip = AudioClip(b"RIFF", "a.wav")
    transcript = model.transcribe(clip, model="whisper-1", language="es", prompt="ACS150")
    assert (transcript.text, transcript.language) == ("F0001 al arrancar", "es")
    assert model.transcriptions[0].prompt == "ACS150"
    assert model.ping() >= 0
    model.enqueue_ping_error(InputError("down"))
    with pytest.raises(InputError):
        model.ping()
