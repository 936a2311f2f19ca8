"""Text that arrives from outside (argv, stdin, files) made safe to store and search."""

from __future__ import annotations


def clean_text(text: str) -> str:
    """Undo undecodable bytes: UTF-8 if they are UTF-8, else Windows-1252 (a Latin-1 file).

    Python hands invalid input bytes over as lone surrogates, which cannot be written to
    JSON or SQLite; a technician's `café` typed in a cp1252 console must still arrive.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")
