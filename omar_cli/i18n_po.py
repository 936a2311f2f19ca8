"""Reading a gettext ``.po`` catalogue straight into ``gettext.GNUTranslations``.

Kept apart from omar_cli.i18n so that importing the message helpers costs nothing until a
message is first translated.
"""

from __future__ import annotations

import gettext
import re
from typing import Any

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
_ESCAPE = re.compile(r"\\(.)")


class PoTranslations(gettext.GNUTranslations):
    """GNUTranslations read from a ``.po`` text file instead of a compiled ``.mo``.

    Untranslated (empty) and fuzzy entries are left out, so they fall back to English.
    """

    def _parse(self, fp: Any) -> None:  # a binary file, as for a .mo
        self._catalog: dict[Any, str] = {}
        self._info: dict[str, str] = {}
        self.plural = lambda n: int(n != 1)
        for entry in parse_po(fp.read().decode("utf-8")):
            if entry.get("fuzzy"):
                continue
            msgid = entry.get("msgid", "")
            if msgid == "":
                self._read_header(entry.get("msgstr", ""))
                continue
            key = f"{entry['msgctxt']}\x04{msgid}" if "msgctxt" in entry else msgid
            if "msgid_plural" in entry:
                forms = sorted(k for k in entry if k.startswith("msgstr["))
                if all(entry[k] for k in forms) and forms:
                    for k in forms:
                        self._catalog[(key, int(k[7:-1]))] = entry[k]
            elif entry.get("msgstr"):
                self._catalog[key] = entry["msgstr"]

    def _read_header(self, header: str) -> None:
        for line in header.splitlines():
            name, _sep, value = line.partition(":")
            self._info[name.strip().lower()] = value.strip()
        forms = self._info.get("plural-forms", "")
        match = re.search(r"plural=([^;]+)", forms)
        compile_plural = getattr(gettext, "c2py", None)  # CPython's, not in __all__
        if match and compile_plural is not None:
            self.plural = compile_plural(match.group(1))


def parse_po(text: str) -> list[dict[str, str]]:
    """The entries of a ``.po`` file as dicts (msgctxt, msgid, msgid_plural, msgstr,
    msgstr[N], fuzzy, reference); enough of the format for catalogues written by hand or
    by tools/i18n_catalog.py."""
    entries: list[dict[str, str]] = []
    entry: dict[str, str] = {}
    field = ""

    def flush() -> None:
        nonlocal entry
        if "msgid" in entry:
            entries.append(entry)
        entry = {}

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#"):
            if "msgid" in entry:
                flush()
            if line.startswith("#,") and "fuzzy" in line:
                entry["fuzzy"] = "1"
            elif line.startswith("#:"):
                entry["reference"] = (entry.get("reference", "") + " " + line[2:]).strip()
            continue
        if line.startswith('"'):
            entry[field] = entry.get(field, "") + _unquote(line)
            continue
        field, _sep, rest = line.partition(" ")
        if field in ("msgid", "msgctxt") and "msgid" in entry:
            flush()
        entry[field] = _unquote(rest.strip())
    flush()
    return entries


def _unquote(token: str) -> str:
    if len(token) < 2 or not (token.startswith('"') and token.endswith('"')):
        raise ValueError(f"bad .po string: {token!r}")
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), token[1:-1])
