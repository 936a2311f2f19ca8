"""Photos made by the tests: a camera shot with GPS and a rotation tag, and bad files."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import ExifTags, Image

#: the marker painted in the raw top-left corner of a camera photo
RED = (220, 20, 20)


def camera_jpeg(
    width: int = 1600, height: int = 1200, *, orientation: int = 6, gps: bool = True
) -> bytes:
    """A JPEG as a phone writes it: pixels stored sideways, an EXIF orientation saying how to
    turn them, a camera make and a GPS position. The raw top-left quarter is red."""
    image = Image.new("RGB", (width, height), (30, 90, 200))
    image.paste(RED, (0, 0, width // 2, height // 2))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "OmarTestCam"
    if gps:
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        info.update({1: "N", 2: (40.0, 25.0, 1.5), 3: "W", 4: (3.0, 42.0, 5.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes(), comment=b"shot at the plant")
    return out.getvalue()


def png_with_alpha(width: int = 300, height: int = 200) -> bytes:
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))  # fully transparent
    image.paste((0, 120, 0, 255), (0, 0, width // 2, height))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels in a few dozen bytes: a bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grey
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def has_metadata(data: bytes) -> list[str]:
    """What metadata a sent file still carries (expected: none)."""
    image = opened(data)
    found = [k for k in ("exif", "icc_profile", "xmp", "comment", "photoshop") if k in image.info]
    if len(image.getexif()):
        found.append("exif tags")
    if b"Exif\x00\x00" in data or b"OmarTestCam" in data or b"plant" in data:
        found.append("raw bytes")
    return found
