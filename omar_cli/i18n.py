"""User-facing messages in the user's language, with the standard library's gettext.

The source holds English messages (the msgids); ``omar_cli/locale/<lang>.po`` holds their
translations and ships inside the package. The ``.po`` file is read directly into a
``gettext.GNUTranslations`` (only its parser is replaced), so no compiled ``.mo`` file is
generated, committed or built: `pip install .` and `pip install -e .` behave alike and an
edited catalogue takes effect at once. Reading the Spanish catalogue costs about a
millisecond, and only when a message is first translated.

Usage, in any module that prints or raises something a person reads::

    from omar_cli.i18n import _, ngettext
    raise NotFoundError(_("no document matches {ref}").format(ref=ref))

- ``_`` and ``ngettext`` translate into the interface language (the ``language`` setting,
  default ``es``; English for any language without a catalogue);
- ``N_`` marks a message translated later (module-level tables), with ``_`` at use;
- ``translator(lang)`` translates into another language: the frame of an answer (labels,
  safety lines) follows the question's language, not the interface's.

Placeholders are ``str.format`` fields (``{name}``), never f-strings inside ``_()``: the
catalogue test (tests/test_i18n_catalog.py) extracts every marked message from the package
and fails when the Spanish catalogue lacks one or its placeholders differ;
``python tools/i18n_catalog.py`` adds new messages to the catalogue for translation.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import gettext

LOCALE_DIR = Path(__file__).parent / "locale"
#: interface languages with a catalogue (English needs none: it is the source)
UI_LANGS = ("es", "en")
DEFAULT_LANG = "es"

_current: str | None = None
_cache: dict[str, gettext.NullTranslations] = {}


def translator(lang: str) -> gettext.NullTranslations:
    """The translations into ``lang``; English (the msgids) for a language without one."""
    cached = _cache.get(lang)
    if cached is not None:
        return cached
    import gettext  # here, not at import: `omar --help` translates nothing

    from omar_cli.i18n_po import PoTranslations

    path = LOCALE_DIR / f"{lang}.po"
    translations: gettext.NullTranslations
    try:
        with path.open("rb") as fh:
            translations = PoTranslations(fh)
    except FileNotFoundError:
        translations = gettext.NullTranslations()
    _cache[lang] = translations
    return translations


def set_language(lang: str | None) -> None:
    """Use ``lang`` for the interface from now on (once the settings are loaded); None
    forgets it, so that it is guessed again from the environment and the config file."""
    global _current
    _current = None if lang is None else interface_language(lang)


def interface_language(lang: str | None) -> str:
    """The interface language for a ``language`` setting: es and en as such, else English."""
    value = (lang or "").strip().lower()
    return value if value in UI_LANGS else "en"


def language() -> str:
    """The interface language: set from the settings, else guessed the cheap way."""
    global _current
    if _current is None:
        _current = interface_language(_early_language())
    return _current


def _early_language() -> str:
    """`OMAR_LANGUAGE`, else the config file's ``language``, else Spanish: for a message
    printed before the settings are loaded (`--help`, a usage error, a broken config file).

    Cheap on purpose, since `omar --help` pays for it: one line of the file is read with a
    regular expression, neither tomllib nor the settings module is imported, and on Linux
    the folder is found without platformdirs. A file the settings will refuse gives
    Spanish here; the settings then say what is wrong with it.
    """
    env = os.environ.get("OMAR_LANGUAGE", "").strip()
    if env:
        return env
    try:
        raw = (config_dir() / "config.toml").read_bytes()
        # Notepad saves UTF-8 with a BOM, or UTF-16 ("Unicode") with one
        utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))
        text = raw.decode("utf-16" if utf16 else "utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return DEFAULT_LANG
    import re

    match = re.search(r"""(?m)^\s*language\s*=\s*["']([A-Za-z]{2})["']""", text)
    return match.group(1) if match else DEFAULT_LANG


def config_dir() -> Path:
    """The config folder as omar_cli.settings.resolve_paths finds it (a test pins that)."""
    raw = os.environ.get("OMAR_CONFIG_DIR")
    if raw:
        return Path(raw).expanduser()
    if sys.platform.startswith("linux"):  # platformdirs' XDG rule, without importing it
        base = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.expanduser("~/.config")
        return Path(base) / "omar"
    import platformdirs

    return Path(platformdirs.user_config_dir("omar", appauthor=False))


def _(message: str) -> str:
    """``message`` in the interface language."""
    return translator(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the interface language."""
    return translator(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue; translate it where it is shown, with ``_``."""
    return message


_YES = frozenset({"s", "si", "sí", "y", "yes"})
_NO = frozenset({"n", "no"})


def parse_yes_no(answer: str) -> bool | None:
    """True for s/sí/si/y/yes, False for n/no (any case), None for anything else."""
    word = answer.strip().casefold()
    if word in _YES:
        return True
    if word in _NO:
        return False
    return None
