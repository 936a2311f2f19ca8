"""Typer's own usage errors (English, from its vendored Click) in the interface language."""

from __future__ import annotations

import re

from omar_cli.i18n import N_, _

#: Click's messages as it words them, and ours; the groups fill the placeholders in order
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"No such option: (?P<name>\S+?)(?: Did you mean (?P<alt>\S+?)\??)?$"), ""),
    (re.compile(r"No such command '(?P<name>[^']*)'"), N_("No such command '{name}'")),
    (re.compile(r"Missing argument '(?P<name>[^']*)'"), N_("Missing argument '{name}'")),
    (re.compile(r"Missing option '(?P<name>[^']*)'"), N_("Missing option '{name}'")),
    (
        re.compile(r"Got unexpected extra arguments? \((?P<args>.*)\)"),
        N_("Got unexpected extra argument(s) ({args})"),
    ),
    (
        re.compile(r"Option '(?P<name>[^']*)' requires an argument"),
        N_("Option '{name}' requires an argument"),
    ),
    (
        re.compile(r"Invalid value for '(?P<name>[^']*)': (?P<detail>.*)", re.DOTALL),
        N_("Invalid value for '{name}': {detail}"),
    ),
)


def translate_usage(message: str) -> str:
    """``message`` translated when it is one of the usual usage errors, else as it is."""
    for pattern, template in _PATTERNS:
        match = pattern.match(message.strip())
        if match is None:
            continue
        fields = {k: v for k, v in match.groupdict().items() if v is not None}
        if not template:  # "did you mean" is only said when Click has a suggestion
            template = (
                N_("No such option: {name}. Did you mean {alt}?")
                if "alt" in fields
                else N_("No such option: {name}")
            )
        return _(template).format(**fields)
    return message
