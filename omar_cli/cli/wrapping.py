"""Plain text folded to a terminal's width, list items and indents kept."""

from __future__ import annotations

import re
import textwrap

_ITEM = re.compile(r"^(\s*)(- |\* |\d+\. |⚠ |\[[^\]\s]+\] )?")


def wrap_text(text: str, width: int) -> str:
    """Each line of ``text`` folded at ``width`` columns; a continued list item, numbered
    step or indented line goes on under its own text, not under the marker."""
    return "\n".join(_wrap_line(line, width) for line in text.split("\n"))


def _wrap_line(line: str, width: int) -> str:
    if len(line) <= width:
        return line
    match = _ITEM.match(line)
    lead = match.group(1) if match else ""
    marker = (match.group(2) or "") if match else ""
    indent = lead + " " * (len(marker) if marker and not marker.startswith("[") else 0)
    return textwrap.fill(
        line,
        width=width,
        subsequent_indent=indent or lead,
        break_long_words=False,
        break_on_hyphens=False,
    )
