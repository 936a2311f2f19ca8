"""The versioned ACS150 system prompt and the grounding block sent with each question.

Bump PROMPT_VERSION whenever the wording changes: it is stored with every answer so a
reviewer can tell which instructions produced it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from omar_cli.knowledge.safety import RULES, SafetyConflict, entry_conflicts
from omar_cli.llm.model import ChatMessage, ImagePart, Role

if TYPE_CHECKING:
    from omar_cli.knowledge.index import Hit, UnknownCode

PROMPT_VERSION = "acs150-2026.11-3"

#: what stands for the question when a photo comes without words
PHOTO_ONLY_QUESTION = (
    "(no text: only the attached photo) Say what the photo shows that matters for the drive "
    "(display, fault code, wiring, nameplate), then what to check."
)
#: what stands for an earlier question that was only a photo (not sent again)
EARLIER_PHOTO = "(a photo, not sent again)"

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
6. A code listed under NOT IN THE KNOWLEDGE BASE is unknown to you: say so first, suggest \
the nearest known ids listed with it, and never give it a meaning or answer with another \
code's sheet as if it were that code.
7. An excerpt marked CONFLICTS WITH SAFETY RULE comes from the user's own document and \
contradicts a safety rule: state the rule, say that the document contradicts it, and never \
repeat the document's advice as yours.
8. Cite only ids that appear in the KNOWLEDGE excerpts.
"""


@dataclass(frozen=True)
class Grounding:
    """The knowledge excerpts that fitted the prompt budget, and the text sent."""

    hits: tuple[Hit, ...]
    text: str
    #: user document excerpts that contradict a safety rule, by entry id
    conflicts: Mapping[str, tuple[SafetyConflict, ...]] = field(default_factory=dict)


def build_grounding(hits: Sequence[Hit], budget_chars: int, lang: str) -> Grounding:
    """Pack the best excerpts, best first, until the character budget is spent."""
    blocks: list[str] = []
    used: list[Hit] = []
    flagged: dict[str, tuple[SafetyConflict, ...]] = {}
    spent = 0
    for hit in hits:
        found = entry_conflicts(hit.entry, lang)
        block = _excerpt(hit, lang, found)
        if used and spent + len(block) > budget_chars:
            break
        if not used and len(block) > budget_chars:
            block = block[: max(budget_chars, 200)]
        blocks.append(block)
        used.append(hit)
        spent += len(block)
        if found:
            flagged[hit.id] = found
    if not blocks:
        text = "KNOWLEDGE: (no matching entries in the knowledge base)"
    else:
        text = "KNOWLEDGE (cite by id):\n\n" + "\n\n".join(blocks)
    return Grounding(hits=tuple(used), text=text, conflicts=flagged)


def _excerpt(hit: Hit, lang: str, flagged: Sequence[SafetyConflict] = ()) -> str:
    entry = hit.entry
    body = entry.text_in(lang)
    lines = [f"[{entry.id}] {entry.kind} {entry.name}: {body.title}"]
    # right after the title: a budget cut must never drop a safety line
    for conflict in flagged:
        lines.append(
            f'CONFLICTS WITH SAFETY RULE: this document says "{conflict.sentence}"; the rule: '
            f"{RULES[conflict.rule]['en']} Follow the rule, not the document."
        )
    if body.safety:
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
    question: str,
    grounding: Grounding,
    history: Sequence[tuple[str, str]],
    unknown: Sequence[UnknownCode] = (),
    images: Sequence[ImagePart] = (),
) -> list[ChatMessage]:
    """System prompt, earlier turns of the session, then the question with its excerpts, the
    codes it names that the knowledge does not hold, and the photos it carries."""
    messages = [ChatMessage.of("system", SYSTEM_PROMPT)]
    # an earlier photo-only question has no text; its answer still needs its question
    messages += [ChatMessage.of(_role(r), t or EARLIER_PHOTO) for r, t in history]
    blocks = [grounding.text]
    if unknown:
        blocks.append(unknown_block(unknown))
    if images and not question:
        question = PHOTO_ONLY_QUESTION
    blocks.append(f"QUESTION: {question}")
    messages.append(ChatMessage.of("user", "\n\n".join(blocks), images))
    return messages


def _role(role: str) -> Role:
    if role not in ("user", "assistant"):
        raise ValueError(f"a history turn is from the user or the assistant, not {role!r}")
    return "user" if role == "user" else "assistant"


def unknown_block(unknown: Sequence[UnknownCode]) -> str:
    """The codes of the question that the knowledge base does not hold, said plainly."""
    lines = ["NOT IN THE KNOWLEDGE BASE (do not give these codes a meaning):"]
    for code in unknown:
        near = ", ".join(code.suggestions) if code.suggestions else "none"
        lines.append(
            f"- {code.code} is not in the knowledge base and must not be given a meaning; "
            f"say so first. Nearest known ids: {near}."
        )
    return "\n".join(lines)
