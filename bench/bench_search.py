"""Retrieval benchmark, run by hand: python bench/bench_search.py [--runs 20]

Prints, for the built-in knowledge:
  1. index build time (fresh cache dir) against cached open time (target: a few ms);
  2. first-search time in a fresh index (pays the stemmer import once);
  3. median and p95 in-process search latency over the eval questions plus extra queries
     (target < 20 ms per query);
  4. hit@3 on the question files, as a sanity check, and how many questions nothing in the
     knowledge answers get no hits.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from omar_cli.knowledge.index import KnowledgeIndex  # noqa: E402
from omar_cli.knowledge.lang import detect_lang  # noqa: E402
from omar_cli.knowledge.loader import builtin_dir, load_entries  # noqa: E402
from omar_cli.knowledge.model import Entry  # noqa: E402

QUESTION_FILES = (
    ROOT.parent / "shared" / "eval" / "questions-dev.jsonl",
    ROOT / "tests" / "data" / "questions-extra.jsonl",
    ROOT / "tests" / "data" / "questions-long.jsonl",
    ROOT / "tests" / "data" / "questions-real.jsonl",
)
#: questions nothing in the knowledge answers: counted as "no hits"
NEGATIVE_FILES = (
    ROOT / "tests" / "data" / "questions-unanswerable.jsonl",
    ROOT / "tests" / "data" / "questions-none.jsonl",
)
EXTRA_QUERIES = (
    "F0001",
    "fallo 16",
    "22.02",
    "2310h",
    "alarma 2010",
    "el variador se dispara al frenar una carga pesada y marca sobretension en el bus",
    "drive keeps tripping on overcurrent when the pump starts, ramp is 2 seconds",
    "como reseteo un fallo desde el panel",
    "what size brake resistor do I need for the 400 V unit",
    "temperatura ambiente 45 grados cuanto baja la corriente",
    "motor cable length and shielded cable requirements",
    "xyzzy plugh",
)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _questions(files: tuple[Path, ...] = QUESTION_FILES) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for path in files:
        if path.is_file():
            rows += [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    return rows


def _hit(index: KnowledgeIndex, row: dict[str, object]) -> bool:
    query = str(row["q"])
    hits = index.search(query, lang=detect_lang(query), limit=3)
    expect_any = row.get("expect_any") or []
    expect_text = row.get("expect_text") or []
    assert isinstance(expect_any, list) and isinstance(expect_text, list)
    blob = " ".join(f"{h.text} {h.title}" for h in hits).lower()
    return any(h.id in expect_any for h in hits) or any(str(t).lower() in blob for t in expect_text)


_FRESH = """
import sys, time
t0 = time.perf_counter()
from pathlib import Path
from omar_cli.knowledge.index import KnowledgeIndex
from omar_cli.knowledge.loader import builtin_dir, load_entries
t1 = time.perf_counter()
entries = load_entries(builtin_dir())
t2 = time.perf_counter()
index = KnowledgeIndex.open(entries, Path(sys.argv[1]))
t3 = time.perf_counter()
index.search("se dispara por sobretension al frenar")
t4 = time.perf_counter()
index.search("aceleracon muy rapida")
t5 = time.perf_counter()
print(f"import {(t1-t0)*1e3:.1f} ms, load entries {(t2-t1)*1e3:.1f} ms, "
      f"open {(t3-t2)*1e3:.1f} ms, first search {(t4-t3)*1e3:.1f} ms, "
      f"second (typo) {(t5-t4)*1e3:.1f} ms")
"""


def _fresh_process(cache: Path) -> str:
    """What one `omar search` pays: imports, loading, opening the cache, a first search."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _FRESH, str(cache)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


_NOTES = (
    "en la máquina {machine} el {code} se resolvió ajustando {param} a {value}",
    "{code} en la cinta {machine}: cable del motor dañado por roedores, se cambió el cable",
    "bomba {machine}: el {code} volvía cada mañana; era humedad en la caja de bornes",
    "on conveyor {machine} the {code} came back until {param} was set to {value}",
    "ventilador del armario {machine} obstruido con polvo; tras limpiarlo no salió más {code}",
    "en la prensa {machine} el {code} salía al parar; se alargó {param} a {value}",
)


def _field_entries(entries: list[Entry], count: int) -> list[Entry]:
    """Approved field notes about the built-in codes, worded like technicians' notes."""
    from omar_cli.knowledge.field import FieldRecord, field_entry

    faults = [e.id for e in entries if e.kind in ("fault", "alarm")]
    params = [e.id for e in entries if e.kind == "parameter"]
    made = []
    for i in range(count):
        code, param = faults[i % len(faults)], params[(i * 7) % len(params)]
        text = _NOTES[i % len(_NOTES)].format(
            machine=f"M-{i}", code=code, param=param, value=f"{i % 30 + 1} s"
        )
        record = FieldRecord(
            item=f"20261130-120000-{i:04x}.{i % 9 + 1}", kind="note", text=text,
            reviewer="ana", date="2026-11-30", codes=(code,), parameters=((param, "8 s"),),
            machine=f"M-{i}",
        )  # fmt: skip
        made.append(field_entry(record))
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="passes over the query set")
    parser.add_argument(
        "--field", type=int, default=0, help="add this many approved field notes (synthetic)"
    )
    args = parser.parse_args()

    load_start = time.perf_counter()
    entries = load_entries(builtin_dir())
    print(f"entries: {len(entries)} (loaded in {_ms(time.perf_counter() - load_start)})")
    if args.field:
        entries += _field_entries(entries, args.field)
        print(f"with {args.field} field notes: {len(entries)} entries")

    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        build = _timed(lambda: KnowledgeIndex.open(entries, cache))
        opens = [_timed(lambda: KnowledgeIndex.open(entries, cache)) for _ in range(args.runs)]
        memory = _timed(lambda: KnowledgeIndex.open(entries, None))
        print(f"index build (cold cache): {_ms(build)}")
        print(f"index build (in memory):  {_ms(memory)}")
        print(f"cached open: median {_ms(statistics.median(opens))}, max {_ms(max(opens))}")

        if not args.field:  # the fresh process loads the built-in entries only
            print(f"fresh process, cached index: {_fresh_process(cache)}")
        index = KnowledgeIndex.open(entries, cache)
        rows = _questions()
        queries = [str(r["q"]) for r in rows] + list(EXTRA_QUERIES)
        print(f"first search: {_ms(_timed(lambda: index.search(queries[0])))}")
        times = sorted(
            _timed(lambda q=q: index.search(q, lang=detect_lang(q)))  # type: ignore[misc]
            for _ in range(args.runs)
            for q in queries
        )
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(
            f"search over {len(queries)} queries x {args.runs}: "
            f"median {_ms(statistics.median(times))}, p95 {_ms(p95)}, max {_ms(times[-1])}"
        )
        if rows:
            hits = sum(_hit(index, row) for row in rows)
            print(f"hit@3: {hits}/{len(rows)} = {hits / len(rows):.2f}")
        negatives = _questions(NEGATIVE_FILES)
        if negatives:
            empty = sum(
                not index.search(str(r["q"]), lang=detect_lang(str(r["q"]))) for r in negatives
            )
            print(f"questions nothing answers with no hits: {empty}/{len(negatives)}")
        index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
