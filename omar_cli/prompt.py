"""The versioned ACS150 system prompt and the grounding block sent with each question.

Bump PROMPT_VERSION whenever the wording changes: it is stored with every answer so a
reviewer can tell which instructions produced it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from omar_cli.knowledge.safety import RULES, SafetyConflict, entry_conflicts
from omar_cli.llm.model import ChatMessage, ImagePart, Role, TextPart

if TYPE_CHECKING:
    from omar_cli.knowledge.index import Hit, UnknownCode

#: -4: approved field notes may be in the grounding, headed FIELD NOTE with reviewer and date
PROMPT_VERSION = "acs150-2026.11-4"

#: what stands for the question when a photo comes without words
PHOTO_ONLY_QUESTION = (
    "(no text: only the attached photo) Say what the photo shows that matters for the drive "
    "(display, fault code, wiring, nameplate), then what to check."
)
#: what stands for an earlier question that was only a photo (not sent again)
EARLIER_PHOTO = "(a photo, not sent again)"

#: the safety rule, word for word in both system prompts: fitting never trims it
SAFETY_RULE = (
    "Safety is never optional. Before any work on the drive, motor or cables: isolate and lock "
    "out the supply, wait at least 5 minutes for the DC-link capacitors to discharge, and measure "
    "that no voltage is present. Repeat this whenever your answer involves opening the drive or "
    "touching terminals or cables. Never advise bypassing, disabling or defeating a protection "
    "(fault functions, thermal protection, earth-fault detection, interlocks) to keep a machine "
    "running; explain the risk instead."
)

SYSTEM_PROMPT = f"""\
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
4. {SAFETY_RULE}
5. If a photo or reading is unclear, ask for what you need rather than guessing.
6. A code listed under NOT IN THE KNOWLEDGE BASE is unknown to you: say so first, suggest \
the nearest known ids listed with it, and never give it a meaning or answer with another \
code's sheet as if it were that code.
7. An excerpt marked CONFLICTS WITH SAFETY RULE comes from the user's own document and \
contradicts a safety rule: state the rule, say that the document contradicts it, and never \
repeat the document's advice as yours.
8. Cite only ids that appear in the KNOWLEDGE excerpts.
"""

#: for small local models (a 2k context): the same rules, fewer words; safety word for word
COMPACT_SYSTEM_PROMPT = f"""\
You are OMAR, assistant for technicians servicing ABB ACS150 drives.
1. Answer in the question's language, briefly: likely cause, then checks with parameter numbers.
2. Use only the KNOWLEDGE excerpts and cite their ids in [brackets]; if they lack the answer, \
say so; never invent codes, parameters or values.
3. {SAFETY_RULE}
4. A code under NOT IN THE KNOWLEDGE BASE is unknown: say so, never give it a meaning.
5. An excerpt marked CONFLICTS WITH SAFETY RULE: state the rule; never repeat its advice.
"""


@dataclass(frozen=True)
class Turn:
    """An earlier message of the session as it is sent again: its words and, for the one
    photo history carries (see assistant.HISTORY_IMAGES), the image itself."""

    role: Literal["user", "assistant"]
    text: str
    message_id: str | None = None
    #: sha256 of the photos the stored message carries (sent or not)
    media: tuple[str, ...] = ()
    #: the photos sent with this turn: a subset of ``media``, usually none
    images: tuple[ImagePart, ...] = field(default=(), repr=False)
    #: sha256 of each of ``images``, in order, for the record of what was sent
    image_media: tuple[str, ...] = ()


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
    from omar_cli.knowledge.field import excerpt_head

    entry = hit.entry
    body = entry.text_in(lang)
    head = f"[{entry.id}] {entry.kind} {entry.name}: {body.title}"
    lines = [excerpt_head(entry) if entry.origin is not None else head]
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
    if entry.origin is not None:
        source, note = f"field note {source}", " (field experience, not the manual)"
    lines.append(f"Source: {source}{note}")
    return "\n".join(lines)


def build_messages(
    question: str,
    grounding: Grounding,
    history: Sequence[Turn],
    unknown: Sequence[UnknownCode] | str | None = (),
    images: Sequence[ImagePart] = (),
    *,
    compact: bool = False,
) -> list[ChatMessage]:
    """System prompt, earlier turns of the session, then the question with its excerpts, the
    codes it names that the knowledge does not hold, and the photos it carries.

    ``unknown`` may be given as its block already written (as stored with an answer)."""
    system = COMPACT_SYSTEM_PROMPT if compact else SYSTEM_PROMPT
    messages = [ChatMessage.of("system", system)]
    messages += [_turn_message(t) for t in history]
    blocks = [grounding.text]
    if isinstance(unknown, str):
        blocks.append(unknown)
    elif unknown:
        blocks.append(unknown_block(unknown))
    if images and not question:
        question = PHOTO_ONLY_QUESTION
    blocks.append(f"QUESTION: {question}")
    messages.append(ChatMessage.of("user", "\n\n".join(blocks), images))
    return messages


def _turn_message(turn: Turn) -> ChatMessage:
    role = _role(turn.role)
    if turn.images:
        return ChatMessage.of(role, turn.text, turn.images)
    # an earlier photo-only question has no text; its answer still needs its question
    return ChatMessage.of(role, turn.text or EARLIER_PHOTO)


def _role(role: str) -> Role:
    if role not in ("user", "assistant"):
        raise ValueError(f"a history turn is from the user or the assistant, not {role!r}")
    return "user" if role == "user" else "assistant"


def request_sha256(messages: Sequence[ChatMessage]) -> str:
    """A fingerprint of exactly what a chat request says: roles, texts and the sha256 of each
    image, in order. Stored with an answer; rebuilding the request from the store must give
    the same value (see assistant.rebuild_request)."""
    canonical = [
        [
            m.role,
            [
                ["text", p.text] if isinstance(p, TextPart) else ["image", _sha256(p.data)]
                for p in m.parts
            ],
        ]
        for m in messages
    ]
    encoded = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return _sha256(encoded.encode("utf-8"))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def unknown_block(unknown: Sequence[UnknownCode]) -> str:
    """The codes of the question that the knowledge base does not hold, said plainly."""
    lines = ["NOT IN THE KNOWLEDGE BASE (do not give these codes a meaning):"]
    for code in unknown:
        near = ", ".join(code.suggestions) if code.suggestions else "none"
        if code.kind == "typecode":  # every rating is in the knowledge: no such model
            lines.append(
                f"- {code.code} is not an existing ACS150 type code (no such model); say so "
                f"first and give it no ratings. Most similar existing ratings: {near}."
            )
            continue
        lines.append(
            f"- {code.code} is not in the knowledge base and must not be given a meaning; "
            f"say so first. Nearest known ids: {near}."
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- fitting

#: characters per token, on the safe side for Spanish and English with small-model tokenizers
CHARS_PER_TOKEN = 3.0
#: windows below this get the compact system prompt
COMPACT_BELOW = 4096
#: answer bound when the endpoint's window is not known: a model that never stops is cut
DEFAULT_MAX_TOKENS = 1500
#: the room a request keeps for the labels, roles and template tokens around the texts
_OVERHEAD_TOKENS = 96


@dataclass(frozen=True)
class RequestFit:
    """How big a request may be for one endpoint: which system prompt, how many characters
    of excerpts, how many of the latest history turns, and the answer's token bound."""

    compact: bool
    grounding_chars: int
    history_turns: int
    max_tokens: int


def fit_request(
    window: int | None,
    *,
    context_chars: int,
    question: str,
    history: Sequence[Turn],
    extra_chars: int = 0,
    shrink: bool = False,
) -> RequestFit:
    """Fit the request into ``window`` tokens (None: no limit known), keeping room for the
    answer. ``shrink`` is the second try after a server said the context was exceeded: the
    compact prompt, no history, half the excerpts. The safety rule is in both prompts."""
    if window is None and not shrink:
        return RequestFit(False, context_chars, len(history), DEFAULT_MAX_TOKENS)
    window = window or 4 * COMPACT_BELOW
    max_tokens = max(128, min(1024, window // 4))
    budget = int((window - max_tokens - _OVERHEAD_TOKENS) * CHARS_PER_TOKEN)
    compact = shrink or window < COMPACT_BELOW
    system = COMPACT_SYSTEM_PROMPT if compact else SYSTEM_PROMPT
    left = budget - len(system) - len(question) - extra_chars
    if shrink:  # the server's real window is smaller than declared: half of what fitted
        grounding = max(0, min(context_chars, left) // 2)
        return RequestFit(True, grounding, 0, max_tokens)
    # the excerpts come first: they ground the answer; history takes what remains
    grounding = max(0, min(context_chars, left if not history else left * 2 // 3))
    left -= grounding
    kept = 0
    for turn in reversed(history):
        left -= len(turn.text) + 16
        if left < 0:
            break
        kept += 1
    return RequestFit(compact, grounding, kept, max_tokens)
