"""The versioned ACS150 system prompt and the grounding block sent with each question.

Bump PROMPT_VERSION whenever the wording changes: it is stored with every answer so a
reviewer can tell which instructions produced it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omar_cli.knowledge.index import Hit

PROMPT_VERSION = "acs150-2026.11-1"

SYSTEM_PROMPT = """\
You are OMAR, an assistant for field technicians who install and service ABB ACS150 \
variable-frequency drives (0.37-4 kW micro drives). The person asking is a trained \
technician standing at the cabinet.

Rules:
1. Answer in the language of the question (Spanish or English). Be short and concrete: the \
likely cause first, then the checks in the order to do them, with parameter numbers.
2. Ground every fact in the KNOWLEDGE excerpts given with the question and cite their ids in \
square brackets, e.g. [F0002] or [2203]. If the excerpts do not contain the answer, say so \
plainly and point to the ACS150 user's manual (ABB 3AFE68576032); never invent codes, \
parameter numbers, values, defaults or terminal names.
3. Excerpts marked "verify on the drive's manual" come from a sibling ABB drive; say so when \
you use them.
4. Safety is never optional. Before any work on the drive, motor or cables: isolate and lock \
out the supply, wait at least 5 minutes for the DC-link capacitors to discharge, and measure \
that no voltage is present. Repeat this whenever your answer involves opening the drive or \
touching terminals or cables. Never advise bypassing, disabling or defeating a protection \
(fault functions, thermal protection, earth-fault detection, interlocks) to keep a machine \
running; explain the risk instead.
5. If a photo or reading is unclear, ask for what you need rather than guessing.
"""


@dataclass(frozen=True)
class Grounding:
    """The knowledge excerpts that fitted the prompt budget, and the text sent."""

    hits: tuple[Hit, ...]
    text: str


def build_grounding(hits: Sequence[Hit], budget_chars: int, lang: str) -> Grounding:
    """Pack the best excerpts, best first, until the character budget is spent."""
    blocks: list[str] = []
    used: list[Hit] = []
    spent = 0
    for hit in hits:
        block = _excerpt(hit, lang)
        if used and spent + len(block) > budget_chars:
            break
        if not used and len(block) > budget_chars:
            block = block[: max(budget_chars, 200)]
        blocks.append(block)
        used.append(hit)
        spent += len(block)
    if not blocks:
        text = "KNOWLEDGE: (no matching entries in the knowledge base)"
    else:
        text = "KNOWLEDGE (cite by id):\n\n" + "\n\n".join(blocks)
    return Grounding(hits=tuple(used), text=text)


def _excerpt(hit: Hit, lang: str) -> str:
    entry = hit.entry
    body = entry.text_in(lang)
    lines = [f"[{entry.id}] {entry.kind} {entry.name}: {body.title}"]
    if body.safety:  # right after the title: a budget cut must never drop it
        lines.append("SAFETY: " + body.safety)
    lines.append(body.text.strip())
    if body.causes:
        lines.append("Causes: " + "; ".join(body.causes))
    if body.checks:
        lines.append("Checks: " + "; ".join(body.checks))
    if entry.facts:
        lines.append("Facts: " + "; ".join(f"{k}: {v}" for k, v in entry.facts_in(lang).items()))
    if entry.related:
        lines.append("Related: " + ", ".join(entry.related))
    if entry.gaps:
        lines.append("Not in the knowledge base: " + "; ".join(entry.gaps))
    source = "; ".join(s.label() for s in entry.sources)
    note = " (verify on the drive's manual)" if entry.needs_verification else ""
    lines.append(f"Source: {source}{note}")
    return "\n".join(lines)


def build_messages(
    question: str, grounding: Grounding, history: Sequence[tuple[str, str]]
) -> list[dict[str, str]]:
    """System prompt, earlier turns of the session, then the question with its excerpts."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    messages += [{"role": role, "content": text} for role, text in history]
    messages.append({"role": "user", "content": f"{grounding.text}\n\nQUESTION: {question}"})
    return messages
