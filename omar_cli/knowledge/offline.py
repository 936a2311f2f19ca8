"""Short extractive answers from the built-in knowledge alone, for when there is no network.

Nothing is generated: every sentence comes from an entry, with its id, its source and,
where the entry has one, its safety note, so an offline answer is as grounded as the base.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from omar_cli.i18n import N_, translator
from omar_cli.knowledge.model import Entry

if TYPE_CHECKING:
    from omar_cli.knowledge.index import Hit, UnknownCode

#: the frame of an answer or a fact sheet, in English; shown in the answer's language
LABELS: dict[str, str] = {
    "header": N_("Offline answer, from OMAR's knowledge base"),
    "causes": N_("Possible causes"),
    "checks": N_("What to check, in order"),
    "facts": N_("Facts"),
    "related": N_("Related parameters/codes"),
    "gaps": N_("Not in the knowledge base"),
    "source": N_("Source"),
    "verify": N_("taken from a sibling ABB drive: verify on your drive's manual"),
    "unsure": N_("not confirmed (sources disagree, or inferred): verify on your drive's manual"),
    "user": N_("document added by the user"),
    "field": N_(
        "field note {item}, approved by {reviewer} on {date}: field experience, not the manual"
    ),
    "see_also": N_("See also"),
    "safety": N_("SAFETY"),
    "none": N_(
        "I found nothing in the knowledge base for this question. See the ACS150 "
        "user's manual (ABB 3AFE68576032), or try the code the panel shows (e.g. F0002) or "
        "the parameter number."
    ),
    "general_safety": N_(
        "Before working on the drive, motor or cables: isolate and lock out "
        "the supply, wait at least 5 minutes for the DC-link capacitors to discharge, and "
        "measure that no voltage is present."
    ),
}


def labels_in(lang: str) -> dict[str, str]:
    """LABELS in ``lang`` (English for a language without a catalogue)."""
    tr = translator(lang)
    return {key: tr.gettext(text) for key, text in LABELS.items()}


#: kinds whose advice means opening the drive or touching terminals and cables (a field
#: note is what was done at a machine)
_HANDS_ON_KINDS = frozenset({"fault", "procedure", "safety", "topic", "field"})


#: what an offline answer says when the knowledge has no clear answer, per language
ANSWER_LABELS: dict[str, dict[str, str]] = {
    "es": {
        "unknown": "{code} no está en la base de conocimiento.",
        "nearest": "Códigos conocidos más cercanos: {near} (p. ej. {command}).",
        "no_model": "{code} no existe: ningún ACS150 lleva ese código de tipo.",
        "models": "Modelos que sí existen más parecidos: {near} (p. ej. {command}).",
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
        "no_model": "{code} does not exist: no ACS150 has that type code.",
        "models": "Most similar models that do exist: {near} (e.g. {command}).",
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
    labels = labels_in(lang)
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
        parts += [_field_block(h.entry, lang) for h in sure if h.entry.origin is not None]
        sure = [h for h in sure if h.entry.origin is None]
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
    parts += _conflict_notices(shown, lang)
    parts += [f"⚠ {labels['safety']}: {note}" for note in _safety_notes(shown, lang)]
    return "\n\n".join(parts)


def _conflict_notices(entries: Sequence[Entry], lang: str) -> list[str]:
    """A user's document that contradicts a safety rule is flagged, with the rule beside it."""
    from omar_cli.knowledge.safety import conflict_notice, entry_conflicts

    found = ((entry, entry_conflicts(entry, lang)) for entry in entries)
    return [conflict_notice(entry, conflicts, lang) for entry, conflicts in found if conflicts]


def unknown_code_line(code: UnknownCode, lang: str) -> str:
    """ "F0090 no está en la base de conocimiento. Códigos conocidos más cercanos: ..." """
    words = ANSWER_LABELS.get(lang, ANSWER_LABELS["en"])
    typecode = code.kind == "typecode"
    line = words["no_model" if typecode else "unknown"].format(code=code.code)
    if not code.suggestions:
        return line
    first = code.suggestions[0]
    command = f"{'omar show' if typecode else _LOOKUP.get(first[:1], 'omar param')} {first}"
    near = ", ".join(code.suggestions)
    return f"{line} {words['models' if typecode else 'nearest'].format(near=near, command=command)}"


def _field_block(entry: Entry, lang: str) -> str:
    """A field note beside the answer: its words, whose they are, and that it is no manual."""
    body = entry.text_in(lang)
    return f"[{entry.id}] {body.title}\n\n{_quote(body.text)}\n\n({provenance(entry, lang)})"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())


def _pointers(hits: Sequence[Hit], lang: str) -> str:
    return " · ".join(f"[{h.entry.id}] {h.entry.text_in(lang).title}" for h in hits)


def describe_entry(
    entry: Entry,
    lang: str,
    *,
    brief: bool = False,
    find: Callable[[str], Entry | None] | None = None,
) -> str:
    """One entry as a fact sheet: title, explanation, causes, checks, facts, provenance.

    ``brief`` (for an answer rather than a look-up) leaves out the causes when there are
    checks to do, and the related ids. ``find`` resolves related ids so they are shown with
    their titles in ``lang``. Blocks are separated by blank lines so the same text reads
    well plain and as Markdown.
    """
    labels = labels_in(lang)
    body = entry.text_in(lang)
    blocks = [f"[{entry.id}] {entry.name} — {body.title}", body.text.strip()]
    if body.causes and not (brief and body.checks):
        blocks.append(f"{labels['causes']}:\n" + "\n".join(f"- {c}" for c in body.causes))
    if body.checks:
        numbered = (f"{i}. {c}" for i, c in enumerate(body.checks, 1))
        blocks.append(f"{labels['checks']}:\n" + "\n".join(numbered))
    facts_in = entry.facts_in(lang)
    if facts_in:
        facts = (f"- {k.replace('_', ' ')}: {v}" for k, v in facts_in.items())
        blocks.append(f"{labels['facts']}:\n" + "\n".join(facts))
    if entry.related and not brief:
        lines = (f"- {related_label(rel, lang, find)}" for rel in entry.related)
        blocks.append(f"{labels['related']}:\n" + "\n".join(lines))
    gaps = entry.gaps_in(lang)
    if gaps:
        blocks.append(f"{labels['gaps']}:\n" + "\n".join(f"- {gap}" for gap in gaps))
    blocks.append(f"{labels['source']}: {provenance(entry, lang)}")
    return "\n\n".join(blocks)


def related_label(ident: str, lang: str, find: Callable[[str], Entry | None] | None) -> str:
    """``[2202] Tiempo de aceleración 1``: a related id with its title in ``lang``."""
    other = find(ident) if find is not None else None
    return f"[{ident}] {other.text_in(lang).title}" if other is not None else f"[{ident}]"


def provenance(entry: Entry, lang: str) -> str:
    labels = labels_in(lang)
    origin = entry.origin
    if origin is not None:  # field experience: whose, when, which item
        return labels["field"].format(item=origin.item, reviewer=origin.reviewer, date=origin.date)
    text = "; ".join(s.label() for s in entry.sources)
    note = {"family": "verify", "unsure": "unsure", "user": "user"}.get(entry.confidence)
    return f"{text} ({labels[note]})" if note else text


def missing_safety(answer: str, entries: Sequence[Entry], lang: str) -> str | None:
    """The one safety note an answer about ``entries`` should carry, None if it has the rule.

    An answer that already names the 5-minute wait and the isolation needs no note; see
    :func:`_safety_notes` for which note is chosen.
    """
    from omar_cli.knowledge.safety import states_rule  # its patterns: not for look-ups

    if states_rule(answer):
        return None
    notes = _safety_notes(entries, lang)
    return notes[0] if notes else None


def _safety_notes(entries: Sequence[Entry], lang: str) -> list[str]:
    """At most one note, never several near-copies: the most relevant entry's own note when
    it states the DC-link wait and the isolation, else the general rule with the note's own
    hazard merged in; the general rule alone when the best entry means hands-on work."""
    from omar_cli.knowledge.safety import one_note

    labels = labels_in(lang)
    hands_on = bool(entries) and entries[0].kind in _HANDS_ON_KINDS
    note = one_note(entries, lang, general=labels["general_safety"], hands_on=hands_on)
    return [note] if note else []
