"""Every message the package marks for translation has a Spanish translation."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import i18n_catalog

from omar_cli import i18n
from omar_cli.i18n_po import parse_po

FOUND = i18n_catalog.extract()
CATALOGUE = i18n_catalog.load("es")


def test_the_extractor_finds_the_messages() -> None:
    # a floor, so that an extractor broken into finding nothing cannot pass the rest
    assert len(FOUND.messages) >= 100
    assert ("Sources", None) in FOUND.messages
    assert ("{n} page", "{n} pages") in FOUND.messages


def test_help_texts_are_in_the_catalogue_too() -> None:
    helps = [k for k in FOUND.messages if k[0].startswith("help\x04")]
    assert ("help\x04Print one JSON object.", None) in FOUND.messages
    assert any("Example: omar fault F0002" in k[0] for k in helps)


def test_no_message_is_built_before_translation() -> None:
    assert FOUND.problems == []


@pytest.mark.parametrize("key", sorted(FOUND.messages, key=str), ids=lambda k: k[0][:40])
def test_every_message_has_a_spanish_translation(key: tuple[str, str | None]) -> None:
    msgid, plural = key
    msgid = msgid.rpartition("\x04")[2]  # a help text's context aside
    entry = CATALOGUE.get(key)
    assert entry is not None, f"not in omar_cli/locale/es.po: {msgid!r}"
    assert not entry.get("fuzzy"), f"fuzzy translation: {msgid!r}"
    forms = (
        [entry.get("msgstr", "")]
        if plural is None
        else [entry.get("msgstr[0]", ""), entry.get("msgstr[1]", "")]
    )
    for form in forms:
        assert form.strip(), f"empty translation: {msgid!r}"
        wanted = i18n_catalog.placeholders(msgid) | i18n_catalog.placeholders(plural or "")
        assert i18n_catalog.placeholders(form) == wanted, f"placeholders differ: {msgid!r}"


def test_the_catalogue_holds_no_dead_messages() -> None:
    known = FOUND.messages.keys() | FOUND.optional.keys()
    assert [k for k in CATALOGUE if k not in known] == []


def test_translations_load_and_plural_forms_apply() -> None:
    es = i18n.translator("es")
    assert es.gettext("Sources") == "Fuentes"
    assert es.ngettext("{n} page", "{n} pages", 1) == "{n} página"
    assert es.ngettext("{n} page", "{n} pages", 2) == "{n} páginas"
    en = i18n.translator("en")
    assert en.gettext("Sources") == "Sources"
    assert en.ngettext("{n} page", "{n} pages", 1) == "{n} page"


def test_interface_language_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMAR_LANGUAGE", "en")
    i18n.set_language(None)
    assert i18n._("Sources") == "Sources"
    monkeypatch.delenv("OMAR_LANGUAGE")
    i18n.set_language(None)
    assert i18n._("Sources") == "Fuentes"  # default es
    i18n.set_language("fr")  # no catalogue: English, never a crash
    assert i18n._("Sources") == "Sources"
    i18n.set_language(None)


def test_po_parser_reads_escapes_context_and_fuzzy() -> None:
    entries = parse_po(
        'msgid "a \\"b\\"\\n"\nmsgstr "x"\n\n#, fuzzy\nmsgid "c"\nmsgstr "d"\n\n'
        'msgctxt "k"\nmsgid "e"\nmsgstr ""\n"f"\n'
    )
    assert entries[0] == {"msgid": 'a "b"\n', "msgstr": "x"}
    assert entries[1]["fuzzy"] == "1"
    assert entries[2] == {"msgctxt": "k", "msgid": "e", "msgstr": "f"}


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("s", True),
        ("sí", True),
        ("Si", True),
        ("y", True),
        ("YES", True),
        ("n", False),
        ("No", False),
        ("quizá", None),
        ("", None),
    ],
)
def test_yes_no_in_both_languages(answer: str, verdict: bool | None) -> None:
    assert i18n.parse_yes_no(answer) is verdict


@pytest.mark.parametrize("xdg", [None, "/tmp/xdg-conf"])
def test_the_early_config_folder_is_the_settings_one(
    monkeypatch: pytest.MonkeyPatch, xdg: str | None
) -> None:
    from omar_cli.settings import resolve_paths

    monkeypatch.delenv("OMAR_CONFIG_DIR")
    if xdg:
        monkeypatch.setenv("XDG_CONFIG_HOME", xdg)
    else:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert i18n.config_dir() == resolve_paths(os.environ).config


def test_the_config_file_language_applies_before_the_settings_load(
    isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMAR_LANGUAGE", raising=False)
    config = isolated_dirs / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('model = "x"\nlanguage = "en"\n', encoding="utf-8")
    i18n.set_language(None)
    assert i18n.language() == "en"
    config.write_text("\ufefflanguage = 'es'\n", encoding="utf-8")  # Notepad's BOM
    i18n.set_language(None)
    assert i18n.language() == "es"
