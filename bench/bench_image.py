"""Photo pre-processing benchmark, run by hand: python bench/bench_image.py [--runs 7]

For a 12-megapixel camera JPEG (4032×3024, EXIF orientation and GPS, as a phone writes it)
prints, per detail level: the time to check, turn upright, strip, scale and re-encode it
(median and worst of the runs; target < 0.5 s), and the payload sent: the JPEG's bytes and
the base64 data URL that goes in the request (target < 350 KB). Two photos: a plain scene
(smooth surfaces and edges, like a cabinet) and a worst case (fine noise everywhere, which
JPEG compresses worst). The first run also pays Pillow's import, shown apart.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 0.5
TARGET_BYTES = 350_000
SIZE = (4032, 3024)


def scene() -> object:
    """A cabinet-like scene: grey gradient, panels, a lit display, cables, mild sensor noise."""
    from PIL import Image, ImageDraw, ImageFilter

    width = SIZE[0]
    base = Image.linear_gradient("L").resize(SIZE).convert("RGB")
    draw = ImageDraw.Draw(base)
    for i in range(12):  # panels and terminals
        x = 200 + i * 300
        draw.rectangle((x, 400, x + 220, 2600), fill=(90 + 10 * i, 95, 100), outline=(20, 20, 20))
    draw.rectangle((1500, 900, 2500, 1500), fill=(10, 40, 10))  # the display
    draw.text((1600, 1100), "F0002  DC OVERVOLT", fill=(120, 255, 120))
    for i in range(40):  # cables
        draw.line((0, 100 + i * 70, width, 300 + i * 60), fill=(200, 30 + 5 * i, 20), width=9)
    noise = Image.effect_noise(SIZE, 12).convert("RGB")
    return Image.blend(base.filter(ImageFilter.SMOOTH), noise, 0.08)


def noise() -> object:
    from PIL import Image

    channels = [Image.effect_noise(SIZE, 60) for _ in range(3)]
    return Image.merge("RGB", channels)


def camera_file(image: object) -> bytes:
    from PIL import ExifTags, Image

    assert isinstance(image, Image.Image)
    exif = Image.Exif()
    exif[0x0112] = 6
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (40.0, 25.0, 1.5), 3: "W", 4: (3.0, 42.0, 5.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def measure(data: bytes, detail: str, runs: int) -> tuple[list[float], int, int, tuple[int, int]]:
    from omar_cli.images import prepare_image

    times = []
    photo = None
    for _ in range(runs):
        started = time.perf_counter()
        photo = prepare_image(data, "bench.jpg", detail, "en")  # type: ignore[arg-type]
        times.append(time.perf_counter() - started)
    assert photo is not None
    return times, photo.sent.bytes, len(photo.part.data_url), (photo.sent.width, photo.sent.height)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    import PIL.Image  # noqa: F401  -- what the first `omar image` of a process pays

    print(f"Pillow import: {(time.perf_counter() - started) * 1000:.0f} ms")
    ok = True
    for name, make in (("cabinet scene", scene), ("worst case (noise)", noise)):
        data = camera_file(make())
        print(f"\n{name}: {SIZE[0]}×{SIZE[1]} JPEG, {len(data) / 1e6:.1f} MB, EXIF + GPS")
        for detail in ("auto", "low"):
            times, sent, url, size = measure(data, detail, args.runs)
            median, worst = statistics.median(times), max(times)
            passed = worst < TARGET_SECONDS and url < TARGET_BYTES
            ok &= passed
            print(
                f"  {detail:>4}: {size[0]}×{size[1]} px, {median * 1000:.0f} ms median, "
                f"{worst * 1000:.0f} ms worst; JPEG {sent / 1000:.0f} kB, "
                f"data URL {url / 1000:.0f} kB  {'ok' if passed else 'OVER TARGET'}"
            )
    print(f"\ntargets: < {TARGET_SECONDS} s and < {TARGET_BYTES // 1000} kB sent per photo")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
