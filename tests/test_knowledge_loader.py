"""The built-in knowledge base loads and is well sourced; the loader rejects broken files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from omar_cli.errors import ConfigError, ExitCode
from omar_cli.knowledge.loader import KnowledgeError, builtin_dir, load_entries
from omar_cli.knowledge.model import Entry

pytestmark = pytest.mark.usefixtures("english_messages")  # the messages it reads

# ---------------------------------------------------------------- the real built-in base


@pytest.fixture(scope="module")
def base() -> dict[str, Entry]:
    entries = load_entries(builtin_dir())
    return {e.id: e for e in entries}


def test_builtin_dir_holds_toml_files() -> None:
    directory = builtin_dir()
    assert directory.is_dir()
    assert sorted(p.name for p in directory.glob("*.toml"))


def test_builtin_base_loads_with_unique_ids() -> None:
    entries = load_entries(builtin_dir())
    ids = [e.id for e in entries]
    assert len(ids) == len(set(ids))
    assert len(entries) > 100


def test_every_entry_is_bilingual_and_sourced(base: dict[str, Entry]) -> None:
    for entry in base.values():
        for lang in ("es", "en"):
            text = entry.lang[lang]
            assert text.title.strip() and text.text.strip(), (entry.id, lang)
        assert entry.sources, entry.id
        assert all(s.doc.strip() and s.ref for s in entry.sources), entry.id


def test_entries_are_frozen_with_tuples(base: dict[str, Entry]) -> None:
    f1 = base["F0001"]
    assert isinstance(f1.sources, tuple)
    assert isinstance(f1.related, tuple)
    assert isinstance(f1.lang["es"].checks, tuple)
    with pytest.raises(AttributeError):
        f1.id = "F0002"  # type: ignore[misc]


@pytest.mark.parametrize(
    "ident",
    [
        *(f"F{n:04d}" for n in (1, 2, 3, 4, 6, 7, 9, 12)),
        *(f"F{n:04d}" for n in (5, 8, 10, 11, 14, 15, 16, 18, 20, 21, 22, 24, 26, 27, 28, 34, 35)),
        "F0101",
        "A2006",
        "A2007",
        "A2008",
        "A2010",
        "A2012",
        *("2201", "2202", "2203", "2205", "2206", "2005", "2006", "2606", "2607"),
        *("3001", "3002", "3003", "3005", "3006", "3009", "3010", "3011", "3012", "3017"),
        *("3018", "3019", "3021", "0401", "0412", "0413", "1001", "1103", "1208"),
        *("2003", "2007", "2008", "9905", "9906", "9907", "9908", "9909"),
        "typecode",
        "rating-01x-02a4-2",
        "rating-03x-04a7-2",
        "rating-03x-08a8-4",
        "safety-dc-link-discharge",
        "safety-megger-insulation-test",
        "rcd-protection",
        "derating-ambient-temperature",
        "braking-resistor",
        "capacitor-reforming",
        "fault-reset",
        "application-macros",
        "control-io",
    ],
)
def test_coverage_of_the_reference_facts(base: dict[str, Entry], ident: str) -> None:
    assert ident in base


def test_confirmed_acs150_thresholds(base: dict[str, Entry]) -> None:
    assert "325 %" in base["F0001"].facts["trip_level"]
    assert base["F0001"].hex_code == "2310"
    assert base["F0022"].hex_code == "3130"
    assert "135 °C" in base["F0003"].facts["trip_level"]
    assert "420 V" in base["F0002"].facts["trip_level_200v"]
    assert "840 V" in base["F0002"].facts["trip_level_400v"]
    assert "4.7 A" in base["rating-03x-04a7-2"].text_in("en").text
    assert "4,7 A" in base["rating-03x-04a7-2"].text_in("es").text
    assert "type A" in base["rcd-protection"].text_in("en").text
    assert "tipo B" in base["rcd-protection"].text_in("es").text


def test_family_entries_name_a_sibling_drive(base: dict[str, Entry]) -> None:
    for entry in base.values():
        if entry.kind in ("fault", "alarm", "parameter") and entry.confidence == "family":
            assert any(s.drive != "ACS150" for s in entry.sources), entry.id


def test_acs150_entries_cite_an_acs150_document(base: dict[str, Entry]) -> None:
    for entry in base.values():
        if entry.confidence == "acs150":
            assert any(s.drive == "ACS150" for s in entry.sources), entry.id


def test_rejected_source_is_never_used(base: dict[str, Entry]) -> None:
    for entry in base.values():
        for source in entry.sources:
            assert source.ref != "BAD" and "errorcodefixes" not in source.doc.lower()
            assert source.ref != "X1", f"{entry.id}: ACS 300 tables are not ACS150 sources"


def test_unknown_values_stay_gaps(base: dict[str, Entry]) -> None:
    # The ACS150 ramp default is not known: the sibling value must be labelled, and a gap said.
    ramp = base["2202"]
    assert "ACH550" in ramp.facts["default"]
    assert any("default" in gap for gap in ramp.gaps)
    assert base["rating-03x-05a6-4"].gaps  # 400 V kW values were cut off in the source


@pytest.mark.parametrize(
    "ident",
    [
        "F0004",
        "F0016",
        "F0035",
        "power-terminals",
        "braking-resistor",
        "safety-megger-insulation-test",
    ],
)
def test_hands_on_entries_carry_a_safety_note(base: dict[str, Entry], ident: str) -> None:
    entry = base[ident]
    es, en = entry.lang["es"].safety, entry.lang["en"].safety
    assert es and en, ident
    assert "5 minutos" in es and "bloquee" in es, ident
    assert "5 minutes" in en and "lock" in en, ident


def test_every_safety_entry_has_a_note_in_both_languages(base: dict[str, Entry]) -> None:
    safety = [e for e in base.values() if e.kind == "safety"]
    assert len(safety) >= 5
    for entry in safety:
        assert entry.lang["es"].safety and entry.lang["en"].safety, entry.id


# ---------------------------------------------------------------- validation on fixtures

GOOD = """
[[entry]]
id = "F0001"
kind = "fault"
name = "OVERCURRENT"
confidence = "acs150"
related = ["2202"]
sources = [{ doc = "ACS150 User's Manual", page = "130", ref = "S1" }]
gaps = ["ACS150 default not known."]
[entry.facts]
trip_level = "325 %"
[entry.es]
title = "Sobrecorriente"
text = "Texto."
keywords = ["sobrecorriente"]
gaps = ["Valor por defecto desconocido."]
[entry.es.facts]
nivel_de_disparo = "325 %"
[entry.en]
title = "Overcurrent"
text = "Text."

[[entry]]
id = "2202"
kind = "parameter"
name = "ACCELER TIME 1"
confidence = "family"
sources = [{ doc = "ACH550 manual", ref = "P6", drive = "ACH550" }]
[entry.es]
title = "Rampa"
text = "Texto."
[entry.en]
title = "Ramp"
text = "Text."
"""


def write(directory: Path, text: str, name: str = "kb.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def expect_error(directory: Path, *fragments: str) -> str:
    with pytest.raises(KnowledgeError) as info:
        load_entries(directory)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_good_fixture_loads(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    entries = load_entries(tmp_path)
    assert [e.id for e in entries] == ["F0001", "2202"]
    assert entries[0].sources[0].drive == "ACS150"  # default drive
    assert entries[1].sources[0].drive == "ACH550"
    assert entries[0].facts == {"trip_level": "325 %"}
    assert entries[0].facts_in("es") == {"nivel_de_disparo": "325 %"}
    assert entries[0].facts_in("en") == {"trip_level": "325 %"}
    assert entries[0].gaps_in("es") == ("Valor por defecto desconocido.",)
    assert entries[0].gaps_in("en") == ("ACS150 default not known.",)
    assert entries[0].lang["es"].keywords == ("sobrecorriente",)


def test_knowledge_error_is_a_config_error() -> None:
    assert issubclass(KnowledgeError, ConfigError)
    assert KnowledgeError("x").code == ExitCode.CONFIG


def test_missing_directory(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope", "not found")


def test_malformed_toml_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace('name = "OVERCURRENT"', "name = OVERCURRENT"), "broken.toml")
    expect_error(tmp_path, "broken.toml", "line 5")


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.toml")
    write(tmp_path, "[[entry]]" + GOOD.split("[[entry]]")[1], "b.toml")
    expect_error(tmp_path, "b.toml", "duplicate", "F0001", "a.toml")


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        (
            'sources = [{ doc = "ACS150 User\'s Manual", page = "130", ref = "S1" }]',
            "sources = []",
            ("F0001", "sources"),
        ),
        (
            'sources = [{ doc = "ACS150 User\'s Manual", page = "130", ref = "S1" }]',
            "",
            ("F0001", "missing", "sources"),
        ),
        (
            'sources = [{ doc = "ACS150 User\'s Manual", page = "130", ref = "S1" }]',
            'sources = [{ page = "130", ref = "S1" }]',
            ("F0001", "source #1", "doc"),
        ),
        ('id = "F0001"', 'id = "F1"', ("'F1'", "fault")),
        ('id = "2202"', 'id = "22020"', ("22020", "parameter")),
        ('kind = "fault"', 'kind = "failure"', ("F0001", "unknown kind", "failure")),
        ('confidence = "acs150"', 'confidence = "sure"', ("F0001", "confidence", "sure")),
        ('name = "OVERCURRENT"', 'name = "OVERCURRENT"\nrelatd = []', ("F0001", "relatd")),
        ('keywords = ["sobrecorriente"]', 'keywrods = ["x"]', ("F0001 [es]", "keywrods")),
        ('related = ["2202"]', 'related = ["2209"]', ("F0001", "related", "2209")),
        ('title = "Overcurrent"\n', "", ("F0001 [en]", "title")),
        ('trip_level = "325 %"', "trip_level = 325", ("F0001", "facts.trip_level")),
        # the translated facts: same count, same numbers, only where English facts exist
        ('nivel_de_disparo = "325 %"', 'nivel_de_disparo = "352 %"', ("F0001 [es]", "numbers")),
        ('nivel_de_disparo = "325 %"\n', 'nivel_de_disparo = "325 %"\notro = "x"\n', ("2",)),
        ('[entry.es.facts]\nnivel_de_disparo = "325 %"\n', "", ("F0001 [es]", "translate")),
        ('[entry.facts]\ntrip_level = "325 %"\n', "", ("F0001 [es]", "no [entry.facts]")),
        ('text = "Text."', 'text = "Text."\n[entry.en.facts]\nx = "1"', ("F0001 [en]", "facts")),
        ('gaps = ["Valor por defecto desconocido."]\n', "", ("F0001 [es]", "gaps")),
        ("[[entry]]", "version = 2\n[[entry]]", ("kb.toml", "top-level", "version")),
        ('ref = "P6", drive = "ACH550"', 'ref = "P6", drive = "ACH550", url = "x"', ("url",)),
    ],
)
def test_each_rule_fails_on_a_bad_fixture(
    tmp_path: Path, old: str, new: str, fragments: tuple[str, ...]
) -> None:
    assert old in GOOD
    write(tmp_path, GOOD.replace(old, new, 1))
    message = expect_error(tmp_path, *fragments)
    assert "kb.toml" in message


def test_missing_language_table_fails(tmp_path: Path) -> None:
    start = GOOD.index("[entry.en]")
    end = GOOD.index("[[entry]]", start)
    write(tmp_path, GOOD[:start] + GOOD[end:])
    expect_error(tmp_path, "kb.toml", "F0001", "en")


def test_slug_ids_for_other_kinds(tmp_path: Path) -> None:
    topic = GOOD.replace('id = "2202"', 'id = "Derating At 40C"').replace(
        'kind = "parameter"', 'kind = "topic"'
    )
    write(tmp_path, topic.replace('related = ["2202"]', "related = []"))
    expect_error(tmp_path, "Derating At 40C", "topic")


# ---------------------------------------------------------------- the parse cache


def test_cache_gives_the_same_entries_and_notices_edits(tmp_path: Path) -> None:
    kb, cache = tmp_path / "kb", tmp_path / "cache"
    kb.mkdir()
    path = write(kb, GOOD)
    first = load_entries(kb, cache_dir=cache)
    assert list(cache.glob("*.marshal"))
    assert load_entries(kb, cache_dir=cache) == first

    path.write_text(GOOD.replace('title = "Overcurrent"', 'title = "Over-current"'), "utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = load_entries(kb, cache_dir=cache)
    assert again[0].lang["en"].title == "Over-current"


def test_cache_still_validates(tmp_path: Path) -> None:
    kb, cache = tmp_path / "kb", tmp_path / "cache"
    kb.mkdir()
    write(kb, GOOD)
    load_entries(kb, cache_dir=cache)
    write(kb, GOOD, "dup.toml")  # a new file is parsed and the duplicate still caught
    with pytest.raises(KnowledgeError, match="duplicate"):
        load_entries(kb, cache_dir=cache)


def test_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    kb, cache = tmp_path / "kb", tmp_path / "cache"
    kb.mkdir()
    write(kb, GOOD)
    load_entries(kb, cache_dir=cache)
    for blob in cache.glob("*.marshal"):
        blob.write_bytes(b"\x00garbage")
    assert [e.id for e in load_entries(kb, cache_dir=cache)] == ["F0001", "2202"]
