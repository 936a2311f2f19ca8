"""Short extractive answers from the built-in knowledge alone, for when there is no network.

Nothing is generated: every sentence comes from an entry, with its id, its source and,
where the entry has one, its safety note, so an offline answer is as grounded as the base.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from omar_cli.knowledge.model import Entry

if TYPE_CHECKING:
    from omar_cli.knowledge.index import Hit, UnknownCode

LABELS: dict[str, dict[str, str]] = {
    "es": {
        "header": "Respuesta sin conexión, de la base de conocimiento de OMAR",
        "causes": "Causas posibles",
        "checks": "Qué comprobar, en orden",
        "facts": "Datos (en inglés)",
        "related": "Parámetros/códigos relacionados",
        "gaps": "No está en la base (nota en inglés)",
        "source": "Fuente",
        "verify": "dato de un variador hermano de la familia ABB: "
        "verifíquelo en el manual de su variador",
        "unsure": "dato no confirmado (las fuentes discrepan o es una inferencia): "
        "verifíquelo en el manual de su variador",
        "user": "documento añadido por el usuario",
        "see_also": "Ver también",
        "safety": "SEGURIDAD",
        "none": "No encontré nada en la base de conocimiento para esta pregunta. "
        "Consulte el manual del usuario del ACS150 (ABB 3AFE68576032) o pruebe con el código "
        "que muestra el panel (p. ej. F0002) o el número de parámetro.",
        "general_safety": "Antes de trabajar en el variador, el motor o los cables: "
        "seccione y bloquee la alimentación, espere al menos 5 minutos a que se descarguen los "
        "condensadores del bus de continua y mida que no hay tensión.",
    },
    "en": {
        "header": "Offline answer, from OMAR's knowledge base",
        "causes": "Possible causes",
        "checks": "What to check, in order",
        "facts": "Facts",
        "related": "Related parameters/codes",
        "gaps": "Not in the knowledge base",
        "source": "Source",
        "verify": "taken from a sibling ABB drive: verify on your drive's manual",
        "unsure": "not confirmed (sources disagree, or inferred): verify on your drive's manual",
        "user": "document added by the user",
        "see_also": "See also",
        "safety": "SAFETY",
        "none": "I found nothing in the knowledge base for this question. See the ACS150 "
        "user's manual (ABB 3AFE68576032), or try the code the panel shows (e.g. F0002) or "
        "the parameter number.",
        "general_safety": "Before working on the drive, motor or cables: isolate and lock out "
        "the supply, wait at least 5 minutes for the DC-link capacitors to discharge, and "
        "measure that no voltage is present.",
    },
}

#: kinds whose advice means opening the drive or touching terminals and cables
_HANDS_ON_KINDS = frozenset({"fault", "procedure", "safety", "topic"})


#: what an offline answer says when the knowledge has no clear answer, per language
ANSWER_LABELS: dict[str, dict[str, str]] = {
    "es": {
        "unknown": "{code} no está en la base de conocimiento.",
        "nearest": "Códigos conocidos más cercanos: {near} (p. ej. {command}).",
        "possibly": "Posiblemente relacionado (no es una respuesta directa)",
        "no_answer": "No encontré en la base de conocimiento nada que responda a esta pregunta.",
        "rephrase": "Pruebe a describir el síntoma con las palabras del panel o del manual, o use "
        'una consulta directa: omar fault F0002, omar param 2202, omar search "sobretensión '
        'al frenar". El manual del usuario del ACS150 es el ABB 3AFE68576032.',
        "greeting": "Hola. Soy OMAR, asistente para variadores ABB ACS150. Pregunte por un "
        "fallo o alarma (p. ej. «F0002 al frenar»), un parámetro o un síntoma; o use "
        "omar fault, omar param y omar search.",
    },
    "en": {
        "unknown": "{code} is not in the knowledge base.",
        "nearest": "Nearest known codes: {near} (e.g. {command}).",
        "possibly": "Possibly related (not a direct answer)",
        "no_answer": "I found nothing in the knowledge base that answers this question.",
        "rephrase": "Try describing the symptom with the words on the panel or in the manual, or "
        'use a direct look-up: omar fault F0002, omar param 2202, omar search "overvoltage when '
        "braking\". The ACS150 user's manual is ABB 3AFE68576032.",
        "greeting": "Hello. I am OMAR, an assistant for ABB ACS150 drives. Ask about a fault or "
        'alarm (e.g. "F0002 when braking"), a parameter or a symptom; or use omar fault, '
        "omar param and omar search.",
    },
}
_LOOKUP = {"F": "omar fault", "A": "omar alarm"}


def greeting(lang: str) -> str:
    """A short hello and what to ask, for a greeting or a thank-you."""
    return ANSWER_LABELS.get(lang, ANSWER_LABELS["en"])["greeting"]


def compose_offline_answer(
    hits: Sequence[Hit],
    lang: str,
    *,
    see_also: int = 2,
    unknown: Sequence[UnknownCode] = (),
) -> str:
    """The answer from the knowledge: unknown codes said first, then the best entry in full.

    Only a strong hit is shown as the answer; weak ones are pointers under "possibly
    related", and with no hit at all the answer says so and suggests how to ask instead.
    """
    labels = LABELS.get(lang, LABELS["en"])
    words = ANSWER_LABELS.get(lang, ANSWER_LABELS["en"])
    parts = [f"{labels['header']}."]
    parts += [unknown_code_line(code, lang) for code in unknown]
    strong = [h for h in hits if h.match == "strong"]
    if strong:
        best = strong[0].entry
        others = [h for h in hits if h.entry is not best][:see_also]
        parts.append(describe_entry(best, lang, brief=True))
        sure = [h for h in others if h.match == "strong"]
        maybe = [h for h in others if h.match != "strong"]
        if sure:
            parts.append(f"{labels['see_also']}: {_pointers(sure, lang)}")
        if maybe:
            parts.append(f"{words['possibly']}: {_pointers(maybe, lang)}")
        shown = [best, *(h.entry for h in others)]
    elif hits:
        weak = list(hits[: 1 + see_also])
        if not unknown:
            parts.append(words["no_answer"])
        parts += [f"{words['possibly']}: {_pointers(weak, lang)}", words["rephrase"]]
        shown = [h.entry for h in weak]
    else:
        parts += [] if unknown else [words["no_answer"]]
        parts.append(words["rephrase"])
        return "\n\n".join(parts)
    note = _one_safety_note(shown, lang)
    if note:
        parts.append(f"⚠ {labels['safety']}: {note}")
    return "\n\n".join(parts)


def _one_safety_note(entries: Sequence[Entry], lang: str) -> str | None:
    """One note per answer, not near-copies: the first entry's own, else the general rule.

    Where hands go on the drive, the DC-link wait is always stated.
    """
    notes = _safety_notes(entries, lang)
    hands_on = entries[0].kind in _HANDS_ON_KINDS
    general = LABELS.get(lang, LABELS["en"])["general_safety"]
    if not notes:
        return general if hands_on else None
    if hands_on and _WAIT_MARK not in notes[0].lower():
        return f"{notes[0]} {general}"
    return notes[0]


def unknown_code_line(code: UnknownCode, lang: str) -> str:
    """ "F0090 no está en la base de conocimiento. Códigos conocidos más cercanos: ..." """
    words = ANSWER_LABELS.get(lang, ANSWER_LABELS["en"])
    line = words["unknown"].format(code=code.code)
    if not code.suggestions:
        return line
    first = code.suggestions[0]
    command = f"{_LOOKUP.get(first[:1], 'omar param')} {first}"
    near = ", ".join(code.suggestions)
    return f"{line} {words['nearest'].format(near=near, command=command)}"


def _pointers(hits: Sequence[Hit], lang: str) -> str:
    return " · ".join(f"[{h.entry.id}] {h.entry.text_in(lang).title}" for h in hits)


def describe_entry(entry: Entry, lang: str, *, brief: bool = False) -> str:
    """One entry as a fact sheet: title, explanation, causes, checks, facts, provenance.

    ``brief`` (for an answer rather than a look-up) leaves out the causes when there are
    checks to do, and the related ids. Blocks are separated by blank lines so the same text
    reads well plain and as Markdown.
    """
    labels = LABELS.get(lang, LABELS["en"])
    body = entry.text_in(lang)
    blocks = [f"[{entry.id}] {entry.name} — {body.title}", body.text.strip()]
    if body.causes and not (brief and body.checks):
        blocks.append(f"{labels['causes']}:\n" + "\n".join(f"- {c}" for c in body.causes))
    if body.checks:
        numbered = (f"{i}. {c}" for i, c in enumerate(body.checks, 1))
        blocks.append(f"{labels['checks']}:\n" + "\n".join(numbered))
    if entry.facts:
        facts = (f"- {k.replace('_', ' ')}: {v}" for k, v in entry.facts.items())
        blocks.append(f"{labels['facts']}:\n" + "\n".join(facts))
    if entry.related and not brief:
        blocks.append(f"{labels['related']}: " + ", ".join(entry.related))
    if entry.gaps:
        blocks.append(f"{labels['gaps']}: " + " ".join(entry.gaps))
    blocks.append(f"{labels['source']}: {provenance(entry, lang)}")
    return "\n\n".join(blocks)


def provenance(entry: Entry, lang: str) -> str:
    labels = LABELS.get(lang, LABELS["en"])
    text = "; ".join(s.label() for s in entry.sources)
    note = {"family": "verify", "unsure": "unsure", "user": "user"}.get(entry.confidence)
    return f"{text} ({labels[note]})" if note else text


#: an answer carries the rule when it names the wait and the isolation, in either language
_WAIT_MARK = "5 min"
_ISOLATION_MARKS = (
    "bloque",
    "aísl",
    "aisl",
    "seccion",
    "desconect",
    "lock",
    "isolat",
    "disconnect",
)


def missing_safety(answer: str, entries: Sequence[Entry], lang: str) -> str | None:
    """The safety notes an answer about ``entries`` should carry but does not.

    The entries' own notes; the general DC-link rule when they have none but the first is
    something hands may be put to (a fault, a procedure). None when the answer has the rule.
    """
    folded = answer.lower()
    if _WAIT_MARK in folded and any(mark in folded for mark in _ISOLATION_MARKS):
        return None
    notes = _safety_notes(entries, lang)
    if not notes and entries and entries[0].kind in _HANDS_ON_KINDS:
        notes = [LABELS.get(lang, LABELS["en"])["general_safety"]]
    return " ".join(notes) if notes else None


def _safety_notes(entries: Sequence[Entry], lang: str) -> list[str]:
    notes: list[str] = []
    for entry in entries:
        note = entry.text_in(lang).safety
        if note and note not in notes:
            notes.append(note)
    return notes
