"""`--help` in the interface language, translated only when help is about to be shown.

Typer builds the help from docstrings and ``help=`` strings at start-up; translating them
there would load the catalogue on every run. Instead the root group calls
``translate_tree`` when the arguments ask for help, so other commands pay nothing.
Help texts are catalogue entries with the context ``help`` (see tools/i18n_catalog.py).
"""

from __future__ import annotations

from typing import Any

HELP_CONTEXT = "help"


def translate_tree(command: Any, lang: str) -> None:
    """Every help text of ``command`` and its sub-commands and parameters, in ``lang``."""
    from omar_cli.i18n import translator

    tr = translator(lang)
    _typer_frame(tr)  # module-wide: set on every call, English included
    if lang == "en" or getattr(command, "_omar_help_lang", None) == lang:
        return

    def walk(cmd: Any) -> None:
        _help_option(cmd, tr)
        for attr in ("help", "short_help"):
            text = getattr(cmd, attr, None)
            if text:
                setattr(cmd, attr, tr.pgettext(HELP_CONTEXT, text))
        for param in getattr(cmd, "params", []):
            if getattr(param, "help", None):
                param.help = tr.pgettext(HELP_CONTEXT, param.help)
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)

    walk(command)
    command._omar_help_lang = lang


#: Typer's own words around the help (panel titles, markers), in its module constants
FRAME = {
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "REQUIRED_LONG_STRING": "[required]",
    "DEFAULT_STRING": "[default: {}]",
}
HELP_OPTION = "Show this message and exit."


def _typer_frame(tr: Any) -> None:
    """Typer's panel titles in ``tr``'s language; left as they are if Typer changes them."""
    try:
        from typer import rich_utils
    except ImportError:
        return
    for name, english in FRAME.items():
        if isinstance(getattr(rich_utils, name, None), str):
            setattr(rich_utils, name, tr.pgettext(HELP_CONTEXT, english))


def _help_option(cmd: Any, tr: Any) -> None:
    """The help option Typer adds to each command, made now so its text can be translated
    (Click creates it on first use and caches it in ``_help_option``)."""
    from types import SimpleNamespace

    try:
        option = cmd.get_help_option(SimpleNamespace(help_option_names=["-h", "--help"]))
    except Exception:  # a Typer without this hook: its own English text stays
        return
    if option is not None and option.help == HELP_OPTION:
        option.help = tr.pgettext(HELP_CONTEXT, HELP_OPTION)


def help_texts(command: Any, path: str = "omar") -> dict[str, list[str]]:
    """Every help text under ``command``, with the commands that show it (for the catalogue)."""
    found: dict[str, list[str]] = {}

    def add(text: str | None, where: str) -> None:
        if text:
            found.setdefault(text, []).append(where)

    if path == "omar":
        for english in (*FRAME.values(), HELP_OPTION):
            add(english, "typer")
    add(getattr(command, "help", None), path)
    add(getattr(command, "short_help", None), path)
    for param in getattr(command, "params", []):
        add(getattr(param, "help", None), f"{path} {param.name}")
    for name, sub in getattr(command, "commands", {}).items():
        for text, where in help_texts(sub, f"{path} {name}").items():
            found.setdefault(text, []).extend(where)
    return found
