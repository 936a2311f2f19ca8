"""KnowledgeIndex: ranking in both languages, codes first, the on-disk cache, look-ups."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from omar_cli.errors import ExitCode, NotFoundError
from omar_cli.knowledge.index import KnowledgeIndex, UnknownCodeError, fingerprint
from omar_cli.knowledge.lang import detect_lang, query_words
from omar_cli.knowledge.model import Entry, LangText, Source

pytestmark = pytest.mark.usefixtures("english_messages")  # the messages it reads

SRC = (Source(doc="ACS150 User's Manual", page="130", ref="S1"),)


def entry(
    ident: str,
    kind: str,
    name: str,
    es: tuple[str, str, tuple[str, ...]],
    en: tuple[str, str, tuple[str, ...]],
    **extra: object,
) -> Entry:
    return Entry(
        id=ident,
        kind=kind,
        name=name,
        lang={
            "es": LangText(title=es[0], text=es[1], keywords=es[2]),
            "en": LangText(title=en[0], text=en[1], keywords=en[2]),
        },
        confidence="acs150",
        sources=SRC,
        **extra,  # type: ignore[arg-type]
    )


ENTRIES: list[Entry] = [
    entry(
        "F0001",
        "fault",
        "OVERCURRENT",
        (
            "Sobrecorriente",
            "La corriente de salida superó el nivel de disparo.",
            ("salta al arrancar",),
        ),
        ("Overcurrent", "Output current went above the trip level.", ("trips on start",)),
        hex_code="2310",
        related=("2202",),
        facts={"trip_level": "325 % of I2N"},
    ),
    entry(
        "F0002",
        "fault",
        "DC OVERVOLT",
        ("Sobretensión en el bus de continua", "Tensión del bus DC demasiado alta al frenar.", ()),
        ("DC overvoltage", "DC link voltage too high while braking.", ("regeneration",)),
        hex_code="3210",
        related=("2005", "2203"),
    ),
    entry(
        "F0016",
        "fault",
        "EARTH FAULT",
        ("Falla a tierra", "Posible derivación a tierra en el motor o su cable.", ("fuga",)),
        ("Earth fault", "Possible ground fault in the motor or its cable.", ("ground",)),
        hex_code="2330",
    ),
    entry(
        "A2010",
        "alarm",
        "MOTOR TEMP",
        ("Temperatura del motor", "La temperatura estimada del motor pasó de 90 °C.", ()),
        ("Motor temperature", "Estimated motor temperature above 90 °C.", ()),
    ),
    entry(
        "2202",
        "parameter",
        "ACCELER TIME 1",
        ("Tiempo de aceleración 1", "Tiempo de la rampa de aceleración de cero a máxima.", ()),
        ("Acceleration time 1", "Ramp time from zero to maximum frequency.", ()),
        facts={"range": "0.0…1800.0 s"},
    ),
    entry(
        "2203",
        "parameter",
        "DECELER TIME 1",
        ("Tiempo de deceleración 1", "Tiempo de la rampa de frenado de máxima a cero.", ()),
        ("Deceleration time 1", "Ramp time from maximum frequency to zero.", ()),
    ),
    entry(
        "2005",
        "parameter",
        "OVERVOLT CTRL",
        ("Control de sobretensión", "Activa el controlador de sobretensión del bus.", ()),
        ("Overvoltage control", "Switches the DC overvoltage controller on or off.", ()),
    ),
    entry(
        "safety-capacitors",
        "safety",
        "Wait 5 minutes",
        ("Esperar la descarga", "Tras desconectar, espere 5 minutos antes de tocar bornes.", ()),
        ("Wait for discharge", "After isolating, wait 5 minutes before touching terminals.", ()),
    ),
    entry(
        "rating-01x-04a7-2",
        "rating",
        "ACS150-01x-04A7-2",
        ("Datos nominales ACS150-01x-04A7-2", "Monofásico. Corriente nominal I2N 4,7 A.", ()),
        ("Ratings of ACS150-01x-04A7-2", "Single-phase. Rated output current I2N 4.7 A.", ()),
    ),
    entry(
        "rating-03x-04a7-2",
        "rating",
        "ACS150-03x-04A7-2",
        ("Datos nominales ACS150-03x-04A7-2", "Trifásico. Corriente nominal I2N 4,7 A.", ()),
        ("Ratings of ACS150-03x-04A7-2", "3-phase. Rated output current I2N 4.7 A.", ()),
    ),
    replace(
        entry(
            "doc-pump-manual-3",
            "document",
            "pump manual p. 3",
            ("Manual de la bomba", "La bomba sumergible necesita cebado antes de arrancar.", ()),
            ("Pump manual", "La bomba sumergible necesita cebado antes de arrancar.", ()),
        ),
        confidence="user",
    ),
]


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex.open(ENTRIES, None)


def ids(hits: Sequence[object]) -> list[str]:
    return [h.id for h in hits]  # type: ignore[attr-defined]


# --- ranking ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "lang", "best"),
    [
        ("¿Cómo alargo la rampa de aceleración?", "es", "2202"),
        ("How do I make the acceleration ramp longer?", "en", "2202"),
        ("sobretension en el bus al frenar", "es", "F0002"),
        ("falla a tierra del motor", "es", "F0016"),
        ("ground fault on the motor cable", "en", "F0016"),
        ("cuanto esperar antes de tocar los bornes", "es", "safety-capacitors"),
        ("la bomba necesita cebado", "es", "doc-pump-manual-3"),
    ],
)
def test_ranking_in_both_languages(index: KnowledgeIndex, query: str, lang: str, best: str) -> None:
    assert ids(index.search(query, lang=lang))[0] == best


def test_accents_are_folded(index: KnowledgeIndex) -> None:
    with_accents = index.search("sobretensión deceleración")
    without = index.search("SOBRETENSION deceleracion")
    assert ids(with_accents) == ids(without)
    assert [h.score for h in with_accents] == [h.score for h in without]


def test_stemming_matches_other_word_forms(index: KnowledgeIndex) -> None:
    assert ids(index.search("acelerar"))[0] == "2202"  # indexed as "aceleración"
    assert ids(index.search("grounding", lang="en"))[0] == "F0016"  # indexed as "ground"
    assert "F0002" in ids(index.search("braked", lang="en"))  # indexed as "braking"


def test_typos_find_the_closest_indexed_term(index: KnowledgeIndex) -> None:
    assert ids(index.search("sobrecorirente"))[0] == "F0001"
    assert ids(index.search("aceleracon"))[0] == "2202"
    assert ids(index.search("decelerasion"))[0] == "2203"  # a stem that starts the word
    assert set(ids(index.search("overvoltaje"))[:2]) == {"F0002", "2005"}
    assert index.search("xyzzy plugh") == []


def test_a_word_counts_once_across_languages(index: KnowledgeIndex) -> None:
    # "frenado" and its English stem would both match; only the one the knowledge uses counts
    assert [w.terms for w in index._plan("frenado").words] == [("fren",)]
    assert [w.terms for w in index._plan("braking").words] == [("brake",)]


def test_decimal_numbers_stay_whole(index: KnowledgeIndex) -> None:
    found = ids(index.search("4,7 A", limit=2))
    assert set(found) == {"rating-01x-04a7-2", "rating-03x-04a7-2"}
    assert ids(index.search("4.7 amps", lang="en", limit=2)) == found


def test_compounds_are_found_by_their_head_word(index: KnowledgeIndex) -> None:
    # "overvoltage" and "sobretensión" are indexed with "voltage" and "tensión" too
    assert set(ids(index.search("voltage", lang="en"))[:2]) == {"F0002", "2005"}
    assert set(ids(index.search("tensión"))[:2]) == {"F0002", "2005"}


def test_colloquial_trip_words() -> None:
    words = {word: alt for word, _, alt in query_words("el variador brinca")}
    assert "disp" in words["brinca"] and "variador" not in words  # "dispara", stemmed


def test_stopwords_alone_find_nothing(index: KnowledgeIndex) -> None:
    assert index.search("¿qué es lo que hay?") == []
    assert index.search("what is the") == []
    assert index.search("") == []


def test_exact_code_ranks_first(index: KnowledgeIndex) -> None:
    # the words point at the ramp parameter, the code at the fault: the code wins
    assert ids(index.search("F0002 rampa de aceleración"))[0] == "F0002"
    assert ids(index.search("qué hace el 22.02"))[0] == "2202"
    assert ids(index.search("el PLC marca 2310h"))[0] == "F0001"
    assert ids(index.search("alarma 2010"))[0] == "A2010"
    assert ids(index.search("me sale el fallo 16"))[0] == "F0016"
    assert ids(index.search("corriente nominal del ACS150-03E-04A7-2"))[0] == "rating-03x-04a7-2"
    assert ids(index.search("rated current ACS150-01U-04A7-2"))[0] == "rating-01x-04a7-2"


def test_codes_rank_first_in_the_order_named(index: KnowledgeIndex) -> None:
    # 2202 is related to F0001 and matches the words strongly; the named codes still lead
    found = ids(index.search("F0016 y F0001, rampa de aceleración tiempo de aceleración"))
    assert found[:3] == ["F0016", "F0001", "2202"]


def test_code_boosts_related_entries(index: KnowledgeIndex) -> None:
    found = ids(index.search("F0002", limit=3))
    assert found[0] == "F0002"
    assert set(found[1:]) == {"2005", "2203"}


def test_kinds_filter(index: KnowledgeIndex) -> None:
    found = index.search("sobretensión", kinds={"parameter"})
    assert found and all(h.kind == "parameter" for h in found)
    assert ids(found)[0] == "2005"
    assert "F0002" not in ids(index.search("F0002", kinds=["parameter"]))


def test_limit(index: KnowledgeIndex) -> None:
    assert len(index.search("tiempo rampa motor corriente", limit=2)) == 2
    assert index.search("rampa", limit=0) == []


def test_hit_in_requested_language(index: KnowledgeIndex) -> None:
    es = index.search("F0001", lang="es")[0]
    en = index.search("F0001", lang="en")[0]
    assert (es.title, en.title) == ("Sobrecorriente", "Overcurrent")
    assert "325 %" in es.text and "superó" in es.text
    assert en.source == "ACS150 User's Manual, p. 130"
    assert en.confidence == "acs150" and en.entry is ENTRIES[0]
    assert es.score > 0


def test_detect_lang() -> None:
    assert detect_lang("¿Cómo alargo la rampa de aceleración?") == "es"
    assert detect_lang("Falla a tierra en el motor") == "es"
    assert detect_lang("se dispara cuando frena") == "es"
    assert detect_lang("How do I change the switching frequency?") == "en"
    assert detect_lang("The panel was unplugged and the drive tripped") == "en"
    assert detect_lang("F0001") == "es"


# --- look-up ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("F1", None, "F0001"),
        ("fallo 16", None, "F0016"),
        ("0016", None, "F0016"),
        ("16", "fault", "F0016"),
        ("2310", None, "F0001"),  # no parameter 2310 here: the fieldbus reading wins
        ("0x3210", "fault", "F0002"),
        ("22.02", None, "2202"),
        ("P2203", "parameter", "2203"),
        ("alarma 2010", None, "A2010"),
        ("overcurrent", None, "F0001"),
        ("Sobrecorriente", "fault", "F0001"),
        ("SAFETY-CAPACITORS", None, "safety-capacitors"),
    ],
)
def test_lookup(index: KnowledgeIndex, raw: str, kind: str | None, expected: str) -> None:
    assert index.lookup(raw, kind).id == expected


def test_get(index: KnowledgeIndex) -> None:
    assert index.get("2202") is ENTRIES[4]
    assert index.get("9999") is None


def test_unknown_code_suggests_nearest(index: KnowledgeIndex) -> None:
    with pytest.raises(UnknownCodeError) as info:
        index.lookup("F0017")
    err = info.value
    assert isinstance(err, NotFoundError) and err.code == ExitCode.NOT_FOUND
    assert err.suggestions[0] == "F0016"
    assert "F0017" in err.message and err.hint and "F0016" in err.hint
    with pytest.raises(UnknownCodeError) as info:
        index.lookup("2204", "parameter")
    assert info.value.suggestions[:2] == ["2203", "2202"]


def test_unknown_name_suggests_by_spelling(index: KnowledgeIndex) -> None:
    with pytest.raises(UnknownCodeError) as info:
        index.lookup("overcurent")
    assert "F0001" in info.value.suggestions


def test_wrong_kind_is_unknown(index: KnowledgeIndex) -> None:
    with pytest.raises(UnknownCodeError):
        index.lookup("2202", "fault")


def test_wrong_kind_points_at_the_right_command(index: KnowledgeIndex) -> None:
    for raw, kind, hint in [
        ("A2010", "fault", "A2010 is an alarm: omar alarm A2010"),
        ("F0001", "parameter", "F0001 is a fault: omar fault F0001"),
        ("22.02", "alarm", "2202 is a parameter: omar param 2202"),
        ("sobrecorriente", "alarm", "F0001 is a fault: omar fault F0001"),
    ]:
        with pytest.raises(UnknownCodeError) as info:
            index.lookup(raw, kind)
        assert info.value.hint == hint
        assert info.value.suggestions[0] == hint.split()[0]
        assert info.value.message == f"unknown {kind} {raw!r}"


EXTRA: list[Entry] = [
    entry(
        "F0101",
        "fault",
        "SYSTEM ERROR",
        ("Error de sistema (fallos 101 a 105)", "Error interno.", ("F0102", "103", "fallo 104")),
        ("System error (faults 101 to 105)", "Internal error.", ("F102", "105", "fault 104")),
    ),
    entry(
        "alarm-list",
        "topic",
        "Alarm list",
        ("Lista de alarmas", "Alarmas sin ficha propia.", ("A2001", "A2002")),
        ("Alarm list", "Alarms without a sheet of their own.", ("A2001", "A2002")),
    ),
    entry(
        "F0014",
        "fault",
        "EXT FAULT 1",
        ("Fallo externo 1", "Se activó la entrada de fallo externo.", ("relé térmico",)),
        ("External fault 1", "The external fault input became active.", ("thermal relay",)),
        related=("3003",),
    ),
    entry(
        "3003",
        "parameter",
        "EXTERNAL FAULT 1",
        ("Entrada de fallo externo 1", "Elige la entrada digital del fallo externo 1.", ()),
        ("External fault 1 input", "Chooses the digital input of external fault 1.", ()),
    ),
]


@pytest.fixture(scope="module")
def wider() -> KnowledgeIndex:
    return KnowledgeIndex.open([*ENTRIES, *EXTRA], None)


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("103", "fault", "F0101"),
        ("F0102", None, "F0101"),
        ("fallo 104", None, "F0101"),
        ("F105", "fault", "F0101"),
        ("101", "fault", "F0101"),  # its own id still comes first
        ("A2001", "alarm", "alarm-list"),
    ],
)
def test_lookup_falls_back_to_the_entry_whose_keywords_name_the_code(
    wider: KnowledgeIndex, raw: str, kind: str | None, expected: str
) -> None:
    assert wider.lookup(raw, kind).id == expected


def test_keywords_name_codes_of_their_own_kind_only(wider: KnowledgeIndex) -> None:
    with pytest.raises(UnknownCodeError):
        wider.lookup("106", "fault")
    with pytest.raises(UnknownCodeError):
        wider.lookup("103", "parameter")  # F0101 names fault 103, not parameter 0103


@pytest.mark.parametrize(
    "query",
    [
        "the drive shows external fault 1 and the machine wont start",
        "sale EXT FAULT 1 en la pantalla",
        "EXT FAULT 1",
    ],
)
def test_a_name_with_a_number_is_no_code(wider: KnowledgeIndex, query: str) -> None:
    # "fault 1" inside "EXT FAULT 1" names F0014, not fault code 1 (F0001)
    assert ids(wider.search(query, lang=wider.detect_lang(query)))[:2] == ["F0014", "3003"]
    assert "F0001" not in ids(wider.search("EXT FAULT 1"))


def test_a_name_ranks_like_a_code(wider: KnowledgeIndex) -> None:
    # the words point at the ramp parameter; the name it quotes wins, as a code would
    found = ids(wider.search("acceler time 1 rampa de frenado deceleración"))
    assert found[0] == "2202"
    assert ids(wider.search("F0016 y luego EXT FAULT 1"))[:2] == ["F0016", "F0014"]


# --- cache ------------------------------------------------------------------------------------


def test_cache_is_reused(tmp_path: Path) -> None:
    first = KnowledgeIndex.open(ENTRIES, tmp_path)
    assert first.path is not None and first.path.parent == tmp_path
    stamp = first.path.stat().st_mtime_ns
    second = KnowledgeIndex.open(ENTRIES, tmp_path)
    assert second.path == first.path and second.path.stat().st_mtime_ns == stamp
    assert ids(second.search("aceleración")) == ids(first.search("aceleración"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.path.name]


def test_cache_is_rebuilt_when_knowledge_changes(tmp_path: Path) -> None:
    old = KnowledgeIndex.open(ENTRIES, tmp_path)
    changed = [*ENTRIES[:-1], replace(ENTRIES[-1], name="pump manual p. 4")]
    assert fingerprint(changed) != fingerprint(ENTRIES)
    new = KnowledgeIndex.open(changed, tmp_path)
    assert new.path != old.path
    assert [p.name for p in tmp_path.iterdir()] == [new.path.name]  # type: ignore[union-attr]


def test_provenance_changes_reuse_the_index(tmp_path: Path) -> None:
    # the file holds analysed text only; sources and confidence come from the live entries
    old = KnowledgeIndex.open(ENTRIES, tmp_path)
    moved = [replace(ENTRIES[0], sources=(Source(doc="rev. E", page="131"),)), *ENTRIES[1:]]
    new = KnowledgeIndex.open(moved, tmp_path)
    assert new.path == old.path
    assert new.search("F0001")[0].source == "rev. E, p. 131"


def test_corrupt_cache_is_rebuilt(tmp_path: Path) -> None:
    path = KnowledgeIndex.open(ENTRIES, tmp_path).path
    assert path is not None
    path.write_bytes(b"not a database at all")
    again = KnowledgeIndex.open(ENTRIES, tmp_path)
    assert again.path == path and ids(again.search("aceleración"))[0] == "2202"


def test_unwritable_cache_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    index = KnowledgeIndex.open(ENTRIES, blocker / "cache")
    assert index.path is None
    assert ids(index.search("aceleración"))[0] == "2202"


def test_concurrent_builders_are_safe(tmp_path: Path) -> None:
    barrier = threading.Barrier(8)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def build() -> None:
        try:
            barrier.wait()
            results.append(ids(KnowledgeIndex.open(ENTRIES, tmp_path).search("aceleración")))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 8 and all(r == results[0] for r in results)
    assert [p.suffix for p in tmp_path.iterdir()] == [".sqlite"]  # no temp file left


def test_search_from_another_thread(tmp_path: Path) -> None:
    index = KnowledgeIndex.open(ENTRIES, tmp_path)
    found: list[str] = []
    worker = threading.Thread(target=lambda: found.extend(ids(index.search("aceleración"))))
    worker.start()
    worker.join()
    assert found[:1] == ["2202"]


def test_concurrent_processes_share_one_cache(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from tests.test_index import ENTRIES;"
        "from omar_cli.knowledge.index import KnowledgeIndex;"
        "i = KnowledgeIndex.open(ENTRIES, Path(sys.argv[1]));"
        "print(i.search('aceleracion')[0].id, i.path is not None)"
    )
    root = Path(__file__).resolve().parents[1]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)], cwd=root, stdout=subprocess.PIPE
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=60)[0].decode().split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outputs == [["2202", "True"]] * 4
    assert len(list(tmp_path.glob("*.sqlite"))) == 1


def test_code_lookup_on_a_cached_index_stays_light(tmp_path: Path) -> None:
    # `omar fault F0001` must not pay for the stemmers: only searching needs them
    KnowledgeIndex.open(ENTRIES, tmp_path)
    code = (
        "import json, sys; from pathlib import Path; from tests.test_index import ENTRIES;"
        "from omar_cli.knowledge.index import KnowledgeIndex;"
        "index = KnowledgeIndex.open(ENTRIES, Path(sys.argv[1]));"
        "assert index.lookup('F1').id == 'F0001';"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('snowball'))))"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == []


# --- retrieval quality on the real knowledge base --------------------------------------------

QUESTION_FILES = [
    Path(__file__).resolve().parents[2] / "shared" / "eval" / "questions-dev.jsonl",
    Path(__file__).resolve().parent / "data" / "questions-extra.jsonl",
    # written blind after retrieval was built (29/30 then; one general rule added since)
    Path(__file__).resolve().parent / "data" / "questions-holdout.jsonl",
    # written blind at the end of the first session: 20/20 before any change
    Path(__file__).resolve().parent / "data" / "questions-holdout2.jsonl",
]
#: long forum-style stories full of incidental figures and other drives (issue 6)
STORY_FILES = [Path(__file__).resolve().parent / "data" / "questions-long.jsonl"]
#: real forum questions, tuning part (the blind part, questions-real-holdout, is not tuned on)
REAL_FILE = Path(__file__).resolve().parent / "data" / "questions-real.jsonl"


@pytest.fixture(scope="module")
def builtin_index() -> KnowledgeIndex:
    from omar_cli.knowledge.loader import builtin_dir, load_entries

    return KnowledgeIndex.open(load_entries(builtin_dir()), None)


def _answered(index: KnowledgeIndex, row: dict[str, object]) -> bool:
    """What the shared scorer counts: an expected id or string among the top 3 hits."""
    query = str(row["q"])
    hits = index.search(query, lang=detect_lang(query), limit=3)
    expect_any = [str(i) for i in row.get("expect_any", [])]  # type: ignore[attr-defined]
    expect_text = [str(t).lower() for t in row.get("expect_text", [])]  # type: ignore[attr-defined]
    blob = " ".join(f"{h.text} {h.title}" for h in hits).lower()
    return any(h.id in expect_any for h in hits) or any(t in blob for t in expect_text)


@pytest.mark.parametrize(
    ("query", "best"),
    [
        ("the drive shows external fault 1 and the machine wont start", "F0014"),
        ("sale EXT FAULT 1 en la pantalla", "F0014"),
        ("acceleration time 2 too short", "2205"),
    ],
)
def test_names_on_the_real_knowledge(builtin_index: KnowledgeIndex, query: str, best: str) -> None:
    assert ids(builtin_index.search(query, lang=builtin_index.detect_lang(query)))[0] == best


def test_fault_103_on_the_real_knowledge(builtin_index: KnowledgeIndex) -> None:
    assert builtin_index.lookup("103", "fault").id == "F0101"
    with pytest.raises(UnknownCodeError) as info:
        builtin_index.lookup("A2010", "fault")
    assert info.value.hint == "A2010 is an alarm: omar alarm A2010"


@pytest.mark.parametrize(
    ("path", "floor"),
    [(p, 0.95) for p in QUESTION_FILES] + [(p, 0.85) for p in STORY_FILES],
    ids=lambda v: v.name if isinstance(v, Path) else str(v),
)
def test_hit_at_3(builtin_index: KnowledgeIndex, path: Path, floor: float) -> None:
    if not path.is_file():
        pytest.skip(f"{path} is not in this checkout")
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    misses = [row["id"] for row in rows if not _answered(builtin_index, row)]
    rate = 1 - len(misses) / len(rows)
    assert rate >= floor, f"hit@3 {rate:.2f} on {path.name}; missed {misses}"


def test_hit_at_3_on_real_questions(builtin_index: KnowledgeIndex) -> None:
    """>= 0.80 on the real questions the knowledge can answer: a question labelled only with
    entries the knowledge does not hold yet cannot hit, and counts as soon as they exist."""
    rows = [json.loads(line) for line in REAL_FILE.read_text("utf-8").splitlines() if line]
    held = [row for row in rows if any(builtin_index.get(i) for i in row["expect_any"])]
    assert len(held) >= 0.9 * len(rows)
    misses = [row["id"] for row in held if not _answered(builtin_index, row)]
    rate = 1 - len(misses) / len(held)
    assert rate >= 0.80, f"hit@3 {rate:.2f} on {len(held)} real questions; missed {misses}"


def test_unanswerable_questions_mostly_find_nothing(builtin_index: KnowledgeIndex) -> None:
    path = REAL_FILE.with_name("questions-unanswerable.jsonl")
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    found = [r["id"] for r in rows if builtin_index.search(r["q"], lang=detect_lang(r["q"]))]
    assert len(found) <= 0.7 * len(rows), f"{len(found)}/{len(rows)} got hits"
