"""Offline `ask` and `search` through the real CLI: unknown codes said first, no answer when
nothing answers, weak matches only as possibly related, greetings, and session drift."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from omar_cli.cli.app import app


def run_json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc


def ask(question: str, *more: str) -> dict[str, Any]:
    return run_json("ask", "--offline", *more, question)


def source_ids(doc: dict[str, Any]) -> list[str]:
    return [s["id"] for s in doc["sources"]]


# --- unknown codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("el variador muestra F0090 y no arranca", "F0090 no está en la base de conocimiento"),
        ("the drive shows F0090 and won't start", "F0090 is not in the knowledge base"),
    ],
)
def test_an_unknown_code_is_said_first_with_nearest_codes(question: str, said: str) -> None:
    doc = ask(question, "--new")
    answer = doc["answer"]
    body = answer.split("\n\n", 1)[1]  # after the header line
    assert body.startswith(said)
    assert "F0101" in body.split("\n\n")[0]  # the nearest known fault codes are suggested
    assert "OVERCURRENT" not in answer  # never another code's sheet as the answer
    assert all(s["match"] == "weak" for s in doc["sources"])
    related = "Posiblemente relacionado" if doc["lang"] == "es" else "Possibly related"
    assert not doc["sources"] or related in answer


# --- no answer -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "lang", "said"),
    [
        ("cual es la receta de la paella", "es", "No encontré en la base de conocimiento"),
        ("how do I bake sourdough bread", "en", "I found nothing in the knowledge base"),
    ],
)
def test_nothing_answers_so_the_answer_says_so(question: str, lang: str, said: str) -> None:
    doc = ask(question, "--new")
    assert doc["sources"] == []
    assert doc["lang"] == lang
    assert said in doc["answer"]
    assert "omar fault" in doc["answer"] and "omar search" in doc["answer"]
    assert run_json("search", question)["hits"] == []


def test_a_weak_best_match_is_possibly_related_never_the_answer() -> None:
    doc = ask("no arranca", "--new")
    assert doc["sources"] and all(s["match"] == "weak" for s in doc["sources"])
    assert "Posiblemente relacionado" in doc["answer"]
    assert "Qué comprobar" not in doc["answer"]  # no sheet presented as the answer


def test_search_json_says_how_strong_each_hit_is() -> None:
    hits = run_json("search", "sobrecorriente")["hits"]
    assert hits[0]["id"] == "F0001" and hits[0]["match"] == "strong"
    assert {h["match"] for h in hits} <= {"strong", "weak"}


def test_search_text_marks_weak_hits() -> None:
    result = CliRunner().invoke(app, ["search", "no arranca"])
    assert result.exit_code == 0
    assert "posiblemente relacionado" in result.stdout


def test_a_strong_answer_lists_its_sources_as_strong() -> None:
    doc = ask("falla a tierra en el motor", "--new")
    assert source_ids(doc)[0] == "F0016"
    assert doc["sources"][0]["match"] == "strong"


# --- greetings and session drift -------------------------------------------------------------


@pytest.mark.parametrize("greeting", ["hola", "buenos días", "gracias!!", "hello", "thanks!"])
def test_a_greeting_gets_help_and_no_sources(greeting: str) -> None:
    ask("F0002 al frenar", "--new")
    doc = ask(greeting)
    assert doc["sources"] == []
    assert "omar fault" in doc["answer"]
    assert "F0002" not in doc["answer"].replace("«F0002 al frenar»", "").replace(
        '"F0002 when braking"', ""
    )


@pytest.mark.parametrize(
    ("first", "follow_up"),
    [
        ("F0002 al frenar", "¿y si persiste?"),
        ("F0002 al frenar", "¿y eso dónde se cambia?"),
        ("drive trips with F0002 when braking", "and if it comes back?"),
    ],
)
def test_a_real_follow_up_keeps_the_previous_topic(first: str, follow_up: str) -> None:
    ask(first, "--new")
    assert "F0002" in source_ids(ask(follow_up))


@pytest.mark.parametrize(
    ("first", "second", "best"),
    [
        ("F0002 al frenar", "el motor se sobrecalienta", "F0009"),
        ("F0002 al frenar", "otra cosa: cómo reseteo un fallo", "fault-reset"),
        ("drive trips with F0002 when braking", "earth fault on the motor", "F0016"),
    ],
)
def test_a_new_question_is_answered_on_its_own_subject(first: str, second: str, best: str) -> None:
    ask(first, "--new")
    ids = source_ids(ask(second))
    assert ids[0] == best
    assert "F0002" not in ids


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "el variador se dispara con F0002 cuando frena",
            "cuánto cuesta un ACS150 de 2,2 kW en México",
        ),
        (
            "drive trips with F0002 when braking",
            "who sells spare cooling fans near Hamburg for them",
        ),
    ],
)
def test_a_long_question_the_knowledge_cannot_answer_is_not_dressed_in_the_previous_topic(
    first: str, second: str
) -> None:
    ask(first, "--new")
    doc = ask(second)
    assert doc["sources"] == []
    assert "OVERVOLT" not in doc["answer"]  # the F0002 sheet is not given as the answer


def test_search_names_unknown_codes() -> None:
    doc = run_json("search", "the panel shows F0090")
    assert doc["unknown_codes"][0]["code"] == "F0090"
    assert doc["unknown_codes"][0]["suggestions"][0] == "F0101"
    assert all(h["match"] == "weak" for h in doc["hits"])
    result = CliRunner().invoke(app, ["search", "F0090"])
    assert result.exit_code == 0 and result.stdout == ""
    assert "F0090 no está en la base de conocimiento" in result.stderr


@pytest.mark.parametrize(
    "question",
    ["no arranca", "falla a tierra en el motor", "el variador muestra F0090 y no arranca"],
)
def test_one_safety_note_per_answer_with_the_wait(question: str) -> None:
    answer = ask(question, "--new")["answer"]
    assert answer.count("⚠") == 1
    assert "5 min" in answer
