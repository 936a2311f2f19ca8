"""`omar review export`: approved work as fine-tuning data, a Markdown report, a JSON dump.

Fine-tuning lines follow OpenAI's chat format: ``{"messages": [system, user, assistant]}``.
The user turn is the one the model was sent (grounding excerpts, the question, the photos as
image parts), rebuilt from the store; the assistant turn is the reviewer's correction when
there is one, else the answer as shown. Only sessions the index says hold an approved or
corrected item are opened. A message file that cannot be read stops an export with a
StoreError naming it, rather than leaving its messages out unsaid.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from omar_cli.i18n import _
from omar_cli.transcription_engines import engine_label
from omar_cli.words import item_label, word

if TYPE_CHECKING:
    from omar_cli.llm.model import ChatMessage
    from omar_cli.store import Message, SessionStore, SessionSummary

#: review states whose items are training data
KEPT = ("approved", "edited")
#: image types OpenAI's fine-tuning accepts in a user turn (GIF is refused there)
FINETUNE_MIMES = frozenset({"image/jpeg", "image/png", "image/webp"})


@dataclass(frozen=True)
class Range:
    since: datetime | None = None
    until: datetime | None = None


#: no date limits
ALL_TIME = Range()


def _sessions(store: SessionStore, when: Range, states: tuple[str, ...] = ()) -> list[str]:
    if not states:
        found = store.summaries(since=when.since, until=when.until)
        return [s.id for s in reversed(found)]
    ids: dict[str, SessionSummary] = {}
    for state in states:
        ids.update(
            {s.id: s for s in store.summaries(review=state, since=when.since, until=when.until)}
        )
    return sorted(ids, key=lambda i: (ids[i].created_at, i))


def _in_range(m: Message, when: Range) -> bool:
    return (when.since is None or m.created_at >= when.since) and (
        when.until is None or m.created_at <= when.until
    )


def final_text(m: Message) -> str:
    """What a reviewer stands behind: the correction, else the text as shown."""
    corrected = m.review.corrected_text if m.review is not None else None
    return corrected if corrected else m.text


def finetune_lines(store: SessionStore, when: Range = ALL_TIME) -> Iterator[dict[str, Any]]:
    """One training example per approved or corrected answer in the range, oldest first."""
    for session_id in _sessions(store, when, KEPT):
        messages = store.reviewed(session_id, KEPT)
        by_id = {m.id: m for m in messages}
        for m in messages:
            if m.role != "assistant" or m.review is None or m.review.state not in KEPT:
                continue
            if m.review.withdrawn_at is not None:  # no longer stood behind
                continue
            question = by_id.get(m.reply_to or "")
            if question is None or not _in_range(m, when):
                continue
            yield {"messages": _example(store, question, m)}


def _example(store: SessionStore, question: Message, answer: Message) -> list[dict[str, Any]]:
    from omar_cli.prompt import SYSTEM_PROMPT, build_messages
    from omar_cli.prompt import Grounding as SentGrounding
    from omar_cli.provenance import stored_images

    prov = answer.provenance
    grounding = prov.grounding.text if prov and prov.grounding and prov.grounding.text else ""
    unknown = prov.request.get("unknown_block") if prov is not None else None
    images = [i for i in stored_images(store, question) if i.mime in FINETUNE_MIMES]
    sent = build_messages(question.text, SentGrounding((), grounding), [], unknown, images)
    user = sent[-1]
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": _content(user)},
        {"role": "assistant", "content": final_text(answer)},
    ]


def _content(message: ChatMessage) -> str | list[dict[str, Any]]:
    from omar_cli.llm.model import ImagePart

    if not message.images:
        return message.text.strip()
    parts: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, ImagePart):
            parts.append({"type": "image_url", "image_url": {"url": part.data_url}})
        elif part.text.strip():
            parts.append({"type": "text", "text": part.text.strip()})
    return parts


# -- the full dump and the report -----------------------------------------------------


def dump(store: SessionStore, when: Range = ALL_TIME) -> dict[str, Any]:
    """Every session in the range with all its messages, review state and provenance."""
    sessions = []
    for session_id in _sessions(store, when):
        session = store.get_session(session_id)
        messages = store.messages(session_id)
        sessions.append({"session": plain(session), "messages": [plain(m) for m in messages]})
    return {"sessions": sessions}


def markdown_report(store: SessionStore, when: Range = ALL_TIME) -> str:
    """A human report: per session, each question, answer, photo, code and reviewer note."""
    lines = [f"# {_('OMAR review report')}", ""]
    if when.since or when.until:
        since = f"{when.since:%Y-%m-%d %H:%M}" if when.since else "…"
        until = f"{when.until:%Y-%m-%d %H:%M}" if when.until else "…"
        lines += [_("Period: {since} to {until}").format(since=since, until=until), ""]
    for s in store.summaries(since=when.since, until=when.until)[::-1]:
        lines += _session_section(store, s)
    return "\n".join(lines).rstrip() + "\n"


def _session_section(store: SessionStore, s: SessionSummary) -> list[str]:
    title = s.title or s.first_question or s.id
    lines = [f"## {s.id}: {' '.join(title.split())[:80]}", ""]
    if s.codes:
        lines += [_("Codes: {codes}").format(codes=", ".join(s.codes)), ""]
    for m in store.messages(s.id):
        who = item_label(m.meta.get("kind"), m.role)
        lines.append(f"**{who}** `{m.id}` ({m.created_at:%Y-%m-%d %H:%M})")
        lines += ["", _quote(m.text), ""]
        engine = engine_label(m.meta)
        if engine:
            lines += [_("Transcribed by: {engine}").format(engine=engine), ""]
        lines += structure_lines(m)
        for sha in m.media:
            lines.append(_("Photo or recording: `{sha}`").format(sha=sha[:16]))
        if m.review is not None:
            lines += _review_lines(m)
        lines.append("")
    return lines


def _review_lines(m: Message) -> list[str]:
    review = m.review
    assert review is not None
    lines = [_("Review: {state}").format(state=word(review.state))]
    if review.reviewer:
        at = f" ({review.at:%Y-%m-%d})" if review.at else ""
        lines[-1] += " · " + _("by {who}").format(who=review.reviewer) + at
    if review.corrected_text:
        lines += ["", _("Correction:"), "", _quote(review.corrected_text)]
    if review.note:
        lines += ["", _("Reviewer note: {note}").format(note=review.note)]
    if review.withdrawn_at is not None:
        lines += [
            "",
            _("Withdrawn from field knowledge by {who} ({at:%Y-%m-%d})").format(
                who=review.withdrawn_by or "?", at=review.withdrawn_at
            ),
        ]
    return lines


def structure_lines(m: Message) -> list[str]:
    """A field note's structure as Markdown list lines (none when it has none yet)."""
    from omar_cli.note_structure import structure_fields

    fields = structure_fields(m)
    if not fields:
        return []
    return [f"- {label}: {value}" for label, value in fields] + [""]


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.rstrip().splitlines())


def plain(value: Any) -> Any:
    """JSON values from store records: dataclasses, read-only mappings, datetimes."""
    if value is None or isinstance(value, str | int | float):  # most values: return at once
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    names = getattr(value, "__dataclass_fields__", None)
    if names is not None:
        return {name: plain(getattr(value, name)) for name in names}
    return value
