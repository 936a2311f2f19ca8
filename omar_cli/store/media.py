"""Photos and recordings kept beside the database, named by the sha256 of their content.

``media/ab/abcdef….jpg``: identical bytes land on the same path, so a photo attached twice
is stored once, and a message refers to it by hash instead of holding it inline. No lock is
needed: two processes storing the same bytes write the same content, and the rename that
publishes a file is atomic.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from omar_cli.errors import NotFoundError
from omar_cli.i18n import _
from omar_cli.store.model import MediaRef
from omar_cli.store.storage import write_bytes_atomic

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SUFFIX = re.compile(r"[a-z0-9]{1,10}")


def check_sha256(sha256: str) -> str:
    if _SHA256.fullmatch(sha256) is None:
        raise ValueError(f"not a sha256 hex digest: {sha256!r}")
    return sha256


def normalise_suffix(suffix: str) -> str:
    clean = suffix.lower().lstrip(".")
    if _SUFFIX.fullmatch(clean) is None:
        raise ValueError(f"media suffix must be 1-10 letters or digits, not {suffix!r}")
    return clean


class MediaFiles:
    def __init__(self, media_dir: Path) -> None:
        self.dir = media_dir

    def _existing(self, sha256: str) -> Path | None:
        # The suffix is not part of the identity: the same bytes sent once as .jpg and
        # once as .jpeg are still one file.
        folder = self.dir / sha256[:2]
        if not folder.is_dir():
            return None
        for candidate in sorted(folder.glob(f"{sha256}.*")):
            if not candidate.name.endswith(".tmp"):
                return candidate
        return None

    def add(self, data: bytes, suffix: str) -> MediaRef:
        clean_suffix = normalise_suffix(suffix)
        sha256 = hashlib.sha256(data).hexdigest()
        existing = self._existing(sha256)
        if existing is not None and existing.stat().st_size == len(data):
            return MediaRef(sha256, existing, len(data), existing.suffix.lstrip("."))
        # A same-hash file of the wrong size is a torn copy from an older tool: replace it.
        path = existing or self.dir / sha256[:2] / f"{sha256}.{clean_suffix}"
        write_bytes_atomic(path, data)
        return MediaRef(sha256, path, len(data), path.suffix.lstrip("."))

    def path(self, sha256: str) -> Path:
        existing = self._existing(check_sha256(sha256))
        if existing is None:
            raise NotFoundError(
                _("no media file {name}… in {folder}").format(name=sha256[:12], folder=self.dir),
                hint=_("The photo or recording was deleted or never stored."),
            )
        return existing
