"""Extract the package's translatable messages and bring the Spanish catalogue up to date.

    python tools/i18n_catalog.py          # add new messages (empty msgstr), drop dead ones
    python tools/i18n_catalog.py --check  # exit 1 if the catalogue is not complete

A message is translatable when it is the literal first argument of ``_``, ``N_`` or
``ngettext`` (and the literal arguments of ``<translator>.gettext``/``.ngettext``). The
catalogue test uses the same extractor, so what this script finds is what the test checks.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "omar_cli"
sys.path.insert(0, str(ROOT))

from omar_cli.i18n import LOCALE_DIR  # noqa: E402
from omar_cli.i18n_po import parse_po  # noqa: E402

MARKERS = {"_": 1, "N_": 1, "ngettext": 2, "gettext": 1}
PLACEHOLDER = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")
Key = tuple[str, str | None]  # msgid (``context\x04msgid`` with a context), msgid_plural
HELP = "help"  # the context of `--help` texts (docstrings and help= strings)
#: commands whose modules are not converted yet: their help may stay English for now
HELP_UNCONVERTED: frozenset[str] = frozenset()


@dataclass
class Extracted:
    messages: dict[Key, list[str]] = field(default_factory=dict)
    #: help texts of commands whose modules are not converted: translated when held
    optional: dict[Key, list[str]] = field(default_factory=dict)
    #: marked calls of a built string (an f-string, a concatenation): never translated
    problems: list[str] = field(default_factory=list)


def extract(package: Path = PACKAGE) -> Extracted:
    found = Extracted()
    for path in sorted(package.rglob("*.py")):
        if path.name == "i18n.py" and path.parent == package:
            continue  # the definitions themselves
        rel = path.relative_to(package.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            if isinstance(func, ast.Attribute) and func.attr in ("gettext", "ngettext"):
                name = func.attr
            if name not in MARKERS:
                continue
            count = MARKERS[name]
            args = node.args[:count]
            where = f"{rel}:{node.lineno}"
            if any(isinstance(a, ast.JoinedStr | ast.BinOp | ast.Call) for a in args):
                # an f-string or a built string is never in the catalogue: format after
                found.problems.append(f"{where}: {name}() of a built string")
                continue
            if len(args) < count or not all(
                isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args
            ):
                continue  # a constant marked with N_ where it is defined
            values = [a.value for a in args if isinstance(a, ast.Constant)]
            key: Key = (values[0], values[1] if count == 2 else None)
            found.messages.setdefault(key, []).append(where)
    _extract_help(found)
    return found


def _extract_help(found: Extracted) -> None:
    """Every `--help` text of the real command tree, keyed with the ``help`` context."""
    import typer.main

    from omar_cli.cli.app import app
    from omar_cli.cli.helptext import help_texts

    for text, where in help_texts(typer.main.get_command(app)).items():
        key: Key = (f"{HELP}\x04{text}", None)
        converted = [w for w in where if not (set(w.split()[1:2]) & HELP_UNCONVERTED)]
        if converted:
            found.messages[key] = converted
        else:
            found.optional[key] = where


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


HEADER = (
    'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
    '"Language: {lang}\\n"\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n'
)


def render(lang: str, found: Extracted, old: dict[Key, dict[str, str]]) -> str:
    parts = [HEADER.format(lang=lang)]
    for key, where in {**found.messages, **found.optional}.items():
        msgid, plural = key
        entry = old.get(key, {})
        lines = [f"#: {' '.join(w.replace(' ', '_') for w in where[:3])}"]
        if entry.get("fuzzy"):
            lines.append("#, fuzzy")
        context, sep, msgid = msgid.rpartition("\x04")
        if sep:
            lines.append(f"msgctxt {_quote(context)}")
        lines.append(f"msgid {_quote(msgid)}")
        if plural is None:
            lines.append(f"msgstr {_quote(entry.get('msgstr', ''))}")
        else:
            lines.append(f"msgid_plural {_quote(plural)}")
            lines += [f"msgstr[{i}] {_quote(entry.get(f'msgstr[{i}]', ''))}" for i in (0, 1)]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def load(lang: str) -> dict[Key, dict[str, str]]:
    path = LOCALE_DIR / f"{lang}.po"
    if not path.exists():
        return {}
    entries = parse_po(path.read_text(encoding="utf-8"))
    return {
        (
            f"{e['msgctxt']}\x04{e['msgid']}" if "msgctxt" in e else e["msgid"],
            e.get("msgid_plural"),
        ): e
        for e in entries
        if e["msgid"]
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lang", default="es")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    found = extract()
    old = load(args.lang)
    for problem in found.problems:
        print(f"problem: {problem}", file=sys.stderr)
    missing = [k for k in found.messages if k not in old]
    dead = [k for k in old if k not in found.messages and k not in found.optional]
    print(f"{len(found.messages)} messages, {len(missing)} new, {len(dead)} no longer used")
    if args.check:
        return 1 if missing or dead or found.problems else 0
    (LOCALE_DIR / f"{args.lang}.po").write_text(render(args.lang, found, old), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
