"""Field knowledge: what a supervisor approved is found by `search`, grounding and offline
answers as a field note (reviewer, date, item), below the manual's entry for the same code,
never against a safety rule; withdrawn, rejected and pending items never count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scripted_support import ScriptedCli, as_json

from omar_cli.llm.scripted import ScriptedModel

NOTE = "en la bomba P-3 el F0002 se resolvió alargando 2203 a 8 s"
UNSAFE = "con F0002 no hace falta esperar: se puede trabajar con tensión en los bornes"


@pytest.fixture
def omar(model: ScriptedModel) -> ScriptedCli:
    return ScriptedCli(model)


def note(omar: ScriptedCli, text: str) -> str:
    kept = omar("note", text, "--offline", "--json")
    assert kept.exit_code == 0, kept.stderr
    return str(as_json(kept)["note"]["id"])


def approve(omar: ScriptedCli, item: str, *more: str) -> Any:
    done = omar("review", "approve", item, "--reviewer", "ana", *more)
    assert done.exit_code == 0, done.stderr
    return done


def ids(omar: ScriptedCli, query: str, *more: str) -> list[str]:
    found = omar("search", query, "--json", *more)
    assert found.exit_code == 0, found.stderr
    return [h["id"] for h in as_json(found)["hits"]]


def test_only_approved_notes_are_field_knowledge(omar: ScriptedCli) -> None:
    item = note(omar, NOTE)
    assert f"field-{item}" not in ids(omar, "bomba P-3 alargando")  # pending
    approve(omar, item)
    hits = as_json(omar("search", "bomba P-3 alargando", "--json"))["hits"]
    (hit,) = [h for h in hits if h["id"] == f"field-{item}"]
    assert hit["kind"] == "field" and hit["confidence"] == "field"
    assert item in hit["source"] and "ana" in hit["source"]
    text = omar("search", "bomba P-3 alargando").stdout
    assert f"nota de campo {item}, aprobada por ana el" in text
    assert "experiencia de campo, no del manual" in text
    assert omar("review", "reject", item).exit_code == 0
    assert f"field-{item}" not in ids(omar, "bomba P-3 alargando")


@pytest.mark.parametrize(
    "query",
    [
        NOTE,
        "F0002",
        "fallo 2 bomba P-3",
        "se resolvió alargando",
        "sobretensión al frenar la bomba P-3",
        "DC overvoltage when braking the pump",
    ],
)
def test_a_field_note_never_outranks_its_codes_entry(omar: ScriptedCli, query: str) -> None:
    approve(omar, note(omar, NOTE))
    found = ids(omar, query, "--limit", "8")
    field = [i for i, ident in enumerate(found) if ident.startswith("field-")]
    if query in (NOTE, "F0002", "fallo 2 bomba P-3"):
        assert field, found  # the note is about what was asked
    for position in field:
        assert "F0002" in found[:position], found


def test_a_note_against_a_safety_rule_is_kept_out(omar: ScriptedCli) -> None:
    item = note(omar, UNSAFE)
    done = approve(omar, item)
    assert "regla de seguridad" in done.stderr and "no hace falta esperar" in done.stderr
    assert f"field-{item}" not in ids(omar, "F0002 bornes tensión esperar", "--limit", "10")
    session = item.rsplit(".", 1)[0]
    (row,) = as_json(omar("review", "show", session, "--json"))["field_knowledge"]
    assert row["status"] == "held_out" and {c["rule"] for c in row["conflicts"]} >= {
        "discharge-wait"
    }
    assert "fuera del conocimiento de campo" in omar("review", "show", session).stdout
    fixed = "con F0002 espere 5 minutos y mida ausencia de tensión antes de tocar los bornes"
    assert omar("review", "edit", item, "--text", fixed).exit_code == 0
    assert f"field-{item}" in ids(omar, "F0002 bornes", "--limit", "10")


def test_withdraw_takes_it_out_and_approving_brings_it_back(omar: ScriptedCli) -> None:
    item = note(omar, NOTE)
    assert omar("review", "withdraw", item).exit_code == 6  # pending: nothing to withdraw
    approve(omar, item)
    done = omar("review", "withdraw", item, "--reviewer", "luis", "--json")
    assert done.exit_code == 0, done.stderr
    review = as_json(done)["item"]["review"]
    assert review["state"] == "approved" and review["withdrawn_by"] == "luis"
    assert review["withdrawn_at"] is not None
    assert f"field-{item}" not in ids(omar, NOTE)
    assert omar("review", "withdraw", item).exit_code == 6  # already withdrawn
    session = item.rsplit(".", 1)[0]
    (row,) = as_json(omar("review", "--status", "withdrawn", "--json"))["sessions"]
    assert row["id"] == session and row["withdrawn"] == 1
    assert "1 retiradas" in omar("review").stdout
    assert "retirada del conocimiento de campo por luis" in omar("review", "show", session).stdout
    assert (
        "Retirado del conocimiento de campo por luis"
        in omar("review", "export", "--format", "markdown").stdout
    )
    approve(omar, item)
    assert f"field-{item}" in ids(omar, NOTE)


def test_approved_answer_counts_with_its_correction(
    omar: ScriptedCli, model: ScriptedModel
) -> None:
    model.enqueue("Revise el freno [F0002].")
    asked = as_json(omar("ask", "F0002 en la cinta 7 al parar", "--json"))
    item = asked["message_id"]
    fixed = "En la cinta 7 el F0002 desapareció activando el controlador de sobretensión [2005]."
    assert omar("review", "edit", item, "--text", fixed, "--reviewer", "ana").exit_code == 0
    hits = as_json(omar("search", "cinta 7 al parar", "--json", "--limit", "8"))["hits"]
    (hit,) = [h for h in hits if h["id"] == f"field-{item}"]
    assert "cinta 7" in hit["title"]  # titled by the question it answered
    shown = omar("show", f"field-{item}").stdout
    assert "controlador de sobretensión" in shown and "Revise el freno" not in shown
    # withdrawn: no longer stood behind, so no longer training data either
    assert omar("review", "export").stdout.strip()
    assert omar("review", "withdraw", item).exit_code == 0
    assert omar("review", "export").stdout.strip() == ""


def test_an_offline_answer_is_not_field_knowledge(omar: ScriptedCli) -> None:
    asked = as_json(omar("ask", "--offline", "F0002 en la cinta 7", "--json"))
    approve(omar, asked["message_id"])
    assert not [i for i in ids(omar, "F0002 cinta 7", "--limit", "10") if i.startswith("field")]


def test_offline_answers_show_the_note_marked(omar: ScriptedCli) -> None:
    item = note(omar, NOTE)
    approve(omar, item)
    answer = as_json(omar("ask", "--offline", "F0002 al frenar", "--json"))
    text = answer["answer"]
    assert text.index("[F0002]") < text.index(f"[field-{item}]")
    assert f"nota de campo {item}, aprobada por ana el" in text
    assert "5 minutos" in text  # the built-in safety note stays
    assert f"field-{item}" in [s["id"] for s in answer["sources"]]


def test_import_and_rm_keep_field_knowledge_in_step(
    omar: ScriptedCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = note(omar, NOTE)
    approve(omar, item)
    bundle = tmp_path / "equipo.omar"
    assert omar("review", "export", "--bundle", str(bundle)).exit_code == 0
    assert omar("review", "withdraw", item).exit_code == 0
    withdrawn = tmp_path / "retirada.omar"
    assert omar("review", "export", "--bundle", str(withdrawn)).exit_code == 0

    monkeypatch.setenv("OMAR_DATA_DIR", str(tmp_path / "other-laptop"))
    assert f"field-{item}" not in ids(omar, NOTE)
    assert omar("review", "import", str(bundle)).exit_code == 0
    assert f"field-{item}" in ids(omar, NOTE)
    assert omar("review", "import", str(withdrawn)).exit_code == 0  # the withdrawal travels
    assert f"field-{item}" not in ids(omar, NOTE)
    approve(omar, item)
    assert f"field-{item}" in ids(omar, NOTE)
    assert omar("review", "rm", item.rsplit(".", 1)[0], "--yes").exit_code == 0
    assert f"field-{item}" not in ids(omar, NOTE)


def test_a_note_structured_after_approval_is_updated(
    omar: ScriptedCli, model: ScriptedModel
) -> None:
    item = note(omar, "F0002 en la P-3; 2203 a 8 s")
    approve(omar, item)
    model.enqueue('{"codes": ["F0002"], "parameters": [{"id": "2203", "value": "8 s"}],'
                  ' "symptom": "sobretensión al frenar", "action": "rampa más larga",'
                  ' "machine": "bomba P-3"}')  # fmt: skip
    assert omar("sync").exit_code == 0
    hits = as_json(omar("search", "F0002", "--json"))["hits"]
    (hit,) = [h for h in hits if h["id"] == f"field-{item}"]
    assert hit["title"] == "Nota de campo: sobretensión al frenar → rampa más larga"
    assert "máquina: bomba P-3" in hit["text"]


def test_a_lost_field_file_is_rebuilt_from_the_store(
    omar: ScriptedCli, isolated_dirs: Path
) -> None:
    item = note(omar, NOTE)
    approve(omar, item)
    path = isolated_dirs / "data" / "field-knowledge.json"
    path.unlink()
    assert f"field-{item}" in ids(omar, NOTE)
    path.write_text("{ not json", encoding="utf-8")
    assert f"field-{item}" in ids(omar, NOTE)


def test_code_look_ups_never_read_field_knowledge(
    omar: ScriptedCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from omar_cli.field_knowledge import FieldKnowledge

    approve(omar, note(omar, NOTE))

    def refuse(self: FieldKnowledge) -> None:
        raise AssertionError("a code look-up read the field knowledge")

    monkeypatch.setattr(FieldKnowledge, "_read", refuse)
    for command in (("fault", "F0002"), ("param", "2203"), ("alarm", "A2010")):
        assert omar(*command).exit_code == 0


def test_approving_in_the_queue_makes_field_knowledge(omar: ScriptedCli) -> None:
    item = note(omar, NOTE)
    done = omar("review", "queue", "--reviewer", "ana", input="a\n")
    assert done.exit_code == 0, done.stderr
    assert "Estructura:" in done.stdout  # the note's structure is shown to the reviewer
    assert f"field-{item}" in ids(omar, NOTE)
