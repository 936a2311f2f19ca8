"""The chat-model interface the assistant depends on, and the vendor-neutral types it speaks.

A chat is a list of ``ChatMessage``: a role and a tuple of parts (text, image). The adapter of
each vendor (``llm/openai_client.py`` for OpenAI and compatible servers) turns them into its
wire format and implements ``ChatModel``; ``llm/scripted.py`` implements it in memory for tests.
Nothing here imports a vendor library.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from omar_cli.errors import InputError
from omar_cli.i18n import _

Role = Literal["system", "user", "assistant"]
#: how closely a vision model looks at an image: "low" is cheap (one 512 px tile)
ImageDetail = Literal["auto", "low", "high"]

#: image types the chat endpoints take, by their leading bytes
_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_DATA_URL = re.compile(r"data:(?P<mime>image/[a-z0-9.+-]+);base64,(?P<data>[A-Za-z0-9+/=\s]*)")


@dataclass(frozen=True)
class TextPart:
    text: str


@dataclass(frozen=True)
class ImagePart:
    """An image sent inline: its bytes and MIME type (never a URL the server must fetch)."""

    data: bytes = field(repr=False)
    mime: str
    detail: ImageDetail = "auto"

    @classmethod
    def from_bytes(cls, data: bytes, *, detail: ImageDetail = "auto") -> ImagePart:
        """An image whose type is read from its first bytes (JPEG, PNG, GIF or WebP)."""
        return cls(data, sniff_image_mime(data), detail)

    @classmethod
    def from_data_url(cls, url: str, *, detail: ImageDetail = "auto") -> ImagePart:
        match = _DATA_URL.fullmatch(url.strip())
        if match is None:
            raise InputError(
                _("not a base64 image data URL"), hint=_("expected data:image/...;base64,")
            )
        try:
            data = base64.b64decode(match["data"], validate=False)
        except (binascii.Error, ValueError):
            raise InputError(_("the image data URL is not valid base64")) from None
        return cls(data, match["mime"], detail)

    @property
    def data_url(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"

    @property
    def suffix(self) -> str:
        """File suffix for the MIME type ("jpg", "png"...), for keeping the image on disk."""
        sub = self.mime.split("/", 1)[-1].split("+", 1)[0]
        return "jpg" if sub == "jpeg" else re.sub(r"[^a-z0-9]", "", sub)[:10] or "img"


#: what a message may carry; audio parts join when a chat endpoint takes them
Part = TextPart | ImagePart


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    parts: tuple[Part, ...]

    @classmethod
    def of(cls, role: Role, text: str = "", images: Sequence[ImagePart] = ()) -> ChatMessage:
        """A message of one text part (if any text) followed by the images."""
        parts: list[Part] = [TextPart(text)] if text or not images else []
        return cls(role, (*parts, *images))

    @property
    def text(self) -> str:
        """The text parts joined; what a text-only reader of the message sees."""
        return "\n\n".join(p.text for p in self.parts if isinstance(p, TextPart))

    @property
    def images(self) -> tuple[ImagePart, ...]:
        return tuple(p for p in self.parts if isinstance(p, ImagePart))


@dataclass(frozen=True)
class AudioClip:
    """A recording to transcribe: its bytes and a file name whose suffix names the format."""

    data: bytes = field(repr=False)
    filename: str

    @classmethod
    def read(cls, path: Path) -> AudioClip:
        try:
            return cls(path.read_bytes(), path.name)
        except OSError as exc:
            raise InputError(
                _("cannot read audio file {path}: {reason}").format(
                    path=path, reason=exc.strerror or exc
                ),
                hint=_("check the path; record again with the voice command"),
            ) from None


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class ChatResult:
    text: str
    model: str
    finish_reason: str
    usage: Usage | None
    latency_ms: int
    first_token_ms: int | None
    #: the endpoint profile that answered (set by llm.chain.ProfileChain) and its host
    profile: str | None = None
    host: str | None = None


@dataclass(frozen=True)
class Transcript:
    text: str
    model: str
    language: str | None
    latency_ms: int
    #: the endpoint profile that transcribed it (set by llm.chain.ProfileChain) and its host
    profile: str | None = None
    host: str | None = None


class ChatModel(Protocol):
    """What the assistant needs from a chat endpoint.

    Every failure is an ``omar_cli.errors.ApiError``: a stream that stops before its finish
    reason is an ``IncompleteAnswerError`` carrying the text so far. ``on_delta`` gets each
    piece of text as it arrives; an exception it raises passes through.
    """

    @property
    def host(self) -> str:
        """Where the requests go (host[:port], no credentials), safe to show and to store."""
        ...

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str,
        on_delta: Callable[[str], None] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        json_object: bool = False,
    ) -> ChatResult: ...

    def transcribe(
        self,
        audio: AudioClip,
        *,
        model: str,
        language: str | None = None,
        prompt: str | None = None,
    ) -> Transcript: ...

    def ping(self) -> float:
        """Round trip to the endpoint in milliseconds."""
        ...


def sniff_image_mime(data: bytes) -> str:
    for magic, mime in _IMAGE_MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise InputError(
        _("the file is not a JPEG, PNG, GIF or WebP image"),
        hint=_("take the photo again, or convert it to JPEG"),
    )
