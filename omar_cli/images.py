"""Photos of the drive: read, checked, and made safe and small before they leave the laptop.

A photo is read with a byte limit (before anything is decoded), opened by Pillow with a pixel
limit (a decompression bomb is refused from its header), decoded whole (a truncated file is
refused), turned upright by its EXIF orientation, stripped of every piece of metadata (GPS
above all: the new file is written from pixels only), scaled to what the vision model uses and
re-encoded as a compact JPEG. Nothing is stored until every photo of a question has passed.

Pillow is imported inside the functions, so only `omar image` pays for it.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from omar_cli.errors import InputError
from omar_cli.i18n import N_, translator
from omar_cli.llm.model import ImageDetail, ImagePart

if TYPE_CHECKING:
    from PIL.Image import Image

#: a file bigger than this is refused before it is decoded (a 50 MP phone JPEG is ~25 MB)
MAX_FILE_BYTES = 40 * 1024 * 1024
#: a photo with more pixels than this is refused from its header (Pillow's own bomb limit)
MAX_PIXELS = 89_478_485
#: high and auto detail: what the vision model keeps of a photo (fit 2048, short side 768)
FIT_BOX = 2048
SHORT_SIDE = 768
#: low detail: the one 512 px tile the model looks at
LOW_BOX = 512
JPEG_QUALITY = 82
#: formats taken, by Pillow's name (MPO: the multi-picture JPEG many phones write)
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF", "HEIF"})
STDIN = "-"
_HEIC_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis")

#: every word this module says to the user; ``text`` gives it in the reader's language
TEXTS: dict[str, str] = {
    "cannot_read": N_("{label}: cannot read ({reason})"),
    "cannot_read_hint": N_("check the file's path"),
    "empty": N_("{label}: the file is empty"),
    "too_big": N_("{label}: file too large ({size} MB; at most {limit} MB)"),
    "too_big_hint": N_("send the photo at a lower resolution, or crop it"),
    "not_image": N_("{label}: not an image"),
    "formats_hint": N_("use a JPEG, PNG or WebP photo"),
    "heic": N_("{label}: HEIC photo; the plug-in to read it is missing"),
    "heic_hint": N_("install omar-cli[heic], or set the camera to 'Most compatible' (JPEG)"),
    "unsupported": N_("{label}: unsupported format {format}"),
    "bomb": N_("{label}: image too large ({pixels} megapixels; at most {limit})"),
    "damaged": N_("{label}: truncated or damaged image ({reason})"),
    "damaged_hint": N_("copy the photo again or take another one"),
    "stdin_twice": N_("standard input (-) can be given only once"),
    "too_long": N_("the question is too long ({length} characters; at most {limit})"),
    "too_long_hint": N_("ask about one thing at a time"),
    "default_question": N_(
        "What does this photo of the ACS150 drive show (display, fault or alarm code, wiring, "
        "rating plate), and what should I do?"
    ),
    "queued": N_(
        "The photo and the question are stored and queued: `omar sync` will analyse them "
        "when there is a connection."
    ),
    "not_analysed": N_("The photo could not be analysed; it is kept in the session."),
    "not_kept": N_("The photo could not be analysed, nor kept: the warning below says why."),
    "no_vision": N_(
        "The configured model takes no images (a text-only model). The photo stays queued "
        "for a model with vision: set vision_model, then run `omar sync`."
    ),
    "linked": N_("In the knowledge base"),
    "sent": N_("Sent"),
    "ready": N_("Ready to send"),
    "no_key": N_("no API key configured: the photo stays queued for `omar sync`"),
    "queued_note": N_("photo queued (question {id}); run `omar sync` when online"),
}


def text(lang: str, key: str, **values: object) -> str:
    """One of TEXTS in ``lang`` (English for a language without a catalogue), filled in."""
    return translator(lang).gettext(TEXTS[key]).format(**values)


def default_question(lang: str) -> str:
    return text(lang, "default_question")


@dataclass(frozen=True)
class SentImage:
    """What left the laptop for one photo: its pixels, bytes and hash."""

    width: int
    height: int
    bytes: int
    sha256: str
    mime: str
    detail: str


@dataclass(frozen=True)
class PreparedImage:
    """One photo checked and pre-processed: the original (what is stored) and what is sent."""

    label: str  # the path as given, or "-" for standard input
    original: bytes = field(repr=False)
    original_sha256: str
    format: str  # Pillow's name: "JPEG", "PNG"...
    original_width: int
    original_height: int
    part: ImagePart = field(repr=False)
    sent: SentImage
    #: the EXIF orientation that was applied (1: already upright, or none)
    orientation: int = 1
    #: metadata found in the original and not sent ("exif", "gps", "icc_profile", "xmp"...)
    stripped: tuple[str, ...] = ()

    @property
    def suffix(self) -> str:
        return {"JPEG": "jpg", "MPO": "jpg", "HEIF": "heic"}.get(self.format, self.format.lower())

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.label,
            **self.sent.__dict__,
            "original": {
                "sha256": self.original_sha256,
                "bytes": len(self.original),
                "width": self.original_width,
                "height": self.original_height,
                "format": self.format,
            },
            "orientation_applied": self.orientation,
            "metadata_removed": list(self.stripped),
        }


# --------------------------------------------------------------------------- reading


def read_sources(sources: Sequence[str], stdin: BinaryIO, lang: str) -> list[tuple[str, bytes]]:
    """(label, bytes) of each path, or of standard input for "-"; the byte limit first."""
    if list(sources).count(STDIN) > 1:
        raise InputError(text(lang, "stdin_twice"))
    read = [
        (s, _read_stdin(stdin, lang) if s == STDIN else _read_path(Path(s), lang)) for s in sources
    ]
    for label, data in read:
        if not data:
            raise InputError(text(lang, "empty", label=label), hint=text(lang, "formats_hint"))
    return read


def _read_path(path: Path, lang: str) -> bytes:
    label = str(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory")
        if size > MAX_FILE_BYTES:
            raise _too_big(label, size, lang)
        with path.open("rb") as fh:  # a file growing meanwhile is still bounded
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise InputError(
            text(lang, "cannot_read", label=label, reason=reason),
            hint=text(lang, "cannot_read_hint"),
        ) from None
    if len(data) > MAX_FILE_BYTES:
        raise _too_big(label, len(data), lang)
    return data


def _read_stdin(stdin: BinaryIO, lang: str) -> bytes:
    data = stdin.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _too_big(STDIN, len(data), lang, at_least=True)
    return data


def _too_big(label: str, size: int, lang: str, *, at_least: bool = False) -> InputError:
    shown = f"{'>' if at_least else ''}{size / 1e6:.0f}"
    return InputError(
        text(lang, "too_big", label=label, size=shown, limit=MAX_FILE_BYTES // 1_000_000),
        hint=text(lang, "too_big_hint"),
    )


# --------------------------------------------------------------------------- pre-processing


def target_size(width: int, height: int, detail: ImageDetail) -> tuple[int, int]:
    """The size the vision model works at: low fits 512 px; high/auto fit 2048, short side 768.

    Never enlarged: a small photo is sent at its own size.
    """
    if detail == "low":
        scale = min(1.0, LOW_BOX / max(width, height))
    else:
        scale = min(1.0, FIT_BOX / max(width, height), SHORT_SIDE / min(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def prepare_image(data: bytes, label: str, detail: ImageDetail, lang: str) -> PreparedImage:
    """Check and pre-process one photo; raises InputError (one line) for any bad input."""
    from PIL import Image

    _register_heif()
    with warnings.catch_warnings():
        # Pillow only warns between its limit and twice it: refused here as well
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image, fmt, stripped, original_size = _open_checked(data, label, detail, lang)
    upright, orientation = _upright(image)
    small = _resized(_flattened(upright), detail)
    encoded = _encode_jpeg(small)
    part = ImagePart(encoded, "image/jpeg", detail)
    return PreparedImage(
        label=label,
        original=data,
        original_sha256=hashlib.sha256(data).hexdigest(),
        format=fmt,
        original_width=original_size[0],
        original_height=original_size[1],
        part=part,
        sent=SentImage(
            width=small.width,
            height=small.height,
            bytes=len(encoded),
            sha256=hashlib.sha256(encoded).hexdigest(),
            mime=part.mime,
            detail=detail,
        ),
        orientation=orientation,
        stripped=stripped,
    )


def prepare_images(
    read: Sequence[tuple[str, bytes]], detail: ImageDetail, lang: str
) -> list[PreparedImage]:
    return [prepare_image(data, label, detail, lang) for label, data in read]


def _open_checked(
    data: bytes, label: str, detail: ImageDetail, lang: str
) -> tuple[Image, str, tuple[str, ...], tuple[int, int]]:
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))  # reads the header; checks the pixel limit
        fmt = image.format or "?"
        if fmt not in ACCEPTED_FORMATS:
            raise InputError(
                text(lang, "unsupported", label=label, format=fmt),
                hint=text(lang, "formats_hint"),
            )
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise _bomb(label, width * height, lang)
        if fmt in ("JPEG", "MPO"):  # decode at 1/2, 1/4 or 1/8 scale: 12 MP in a few ms
            image.draft("RGB", target_size(width, height, detail))
        stripped = _metadata_of(image)
        image.load()  # the whole file: a truncated one fails here, not after storing
    except UnidentifiedImageError:
        if _is_heic(data) and not _heif_available:
            raise InputError(
                text(lang, "heic", label=label), hint=text(lang, "heic_hint")
            ) from None
        raise InputError(
            text(lang, "not_image", label=label), hint=text(lang, "formats_hint")
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refuses from the header and says "Image size (N pixels) exceeds limit"
        said = re.search(r"\((\d+) pixels\)", str(exc))
        raise _bomb(label, int(said[1]) if said else 0, lang) from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise InputError(
            text(lang, "damaged", label=label, reason=str(exc) or type(exc).__name__),
            hint=text(lang, "damaged_hint"),
        ) from None
    return image, fmt, stripped, (width, height)


def _bomb(label: str, pixels: int, lang: str) -> InputError:
    return InputError(
        text(
            lang,
            "bomb",
            label=label,
            pixels=f"{pixels / 1e6:.0f}" if pixels else "?",
            limit=f"{MAX_PIXELS / 1e6:.0f}",
        ),
        hint=text(lang, "too_big_hint"),
    )


def _metadata_of(image: Image) -> tuple[str, ...]:
    """Names of the metadata the original carries; none of it is ever written out."""
    keys = [key for key in image.info if isinstance(key, str)]
    named = ("exif", "icc_profile", "xmp", "comment", "photoshop")
    found: list[str] = [key for key in keys if key in named or key.startswith(("XML:", "Raw "))]
    try:
        from PIL import ExifTags

        if image.getexif().get_ifd(ExifTags.IFD.GPSInfo):
            found.append("gps")
    except Exception:
        pass  # unreadable EXIF: it is dropped all the same
    return tuple(dict.fromkeys(found))


def _upright(image: Image) -> tuple[Image, int]:
    from PIL import ImageOps

    try:
        orientation = int(image.getexif().get(0x0112, 1))
    except Exception:
        orientation = 1
    try:
        return ImageOps.exif_transpose(image), orientation
    except Exception:  # a broken EXIF block: the pixels as stored
        return image, 1


def _flattened(image: Image) -> Image:
    """RGB (or grey) pixels: transparency laid on white, other modes converted."""
    from PIL import Image as PILImage

    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        flat = PILImage.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image if image.mode in ("RGB", "L") else image.convert("RGB")


def _resized(image: Image, detail: ImageDetail) -> Image:
    from PIL import Image as PILImage

    size = target_size(image.width, image.height, detail)
    if size == image.size:
        return image
    return image.resize(size, PILImage.Resampling.LANCZOS, reducing_gap=3.0)


def _encode_jpeg(image: Image) -> bytes:
    """Pixels only: no EXIF, GPS, XMP, ICC profile or comment is passed to the encoder."""
    clean = image.copy()
    clean.info = {}
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def _is_heic(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in _HEIC_BRANDS


_heif_tried = False
_heif_available = False


def _register_heif() -> None:
    """HEIC photos (iPhone default) open when the optional pillow-heif is installed."""
    global _heif_tried, _heif_available
    if _heif_tried:
        return
    _heif_tried = True
    try:
        from pillow_heif import register_heif_opener  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return
    register_heif_opener()
    _heif_available = True
