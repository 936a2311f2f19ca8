"""Field notes structured by the model: codes, parameters with their values, symptom, action,
machine.

A note is stored as written before anything is sent (``field_notes.add_note``), with the
codes and parameters a local parse finds, so `omar review --code` finds it with no network.
Then the chat model (any ``ChatModel``: the profile chain falls back as for `ask`) is asked
for one JSON object; what it sends is checked (every code and parameter must be one the
knowledge holds; the texts are short strings) before it is kept in the note's
``meta.structure``. An answer that is not that JSON leaves the note as it was, with the
local parse and the reason (``status: invalid``). Offline, or when the endpoint cannot be
reached, the note waits in the queue like a question, and `omar sync` structures it
(:func:`complete_queued`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from omar_cli.errors import ApiError, worth_retrying
from omar_cli.i18n import N_, _

if TYPE_CHECKING:
    from omar_cli.knowledge.index import KnowledgeIndex
    from omar_cli.knowledge.model import Entry
    from omar_cli.llm.model import ChatMessage, ChatModel
    from omar_cli.results import SyncItem
    from omar_cli.store import Message, SessionStore

NOTE = "note"
STRUCTURE_VERSION = "field-note-2026.11-1"
#: the longest symptom, action or machine kept: one sentence, not a second copy of the note
MAX_FIELD_CHARS = 300
MAX_TOKENS = 400
_CODE_KINDS = ("fault", "alarm")
_PARAMETER_KINDS = ("parameter",)
_LANGUAGE = {"es": "Spanish", "en": "English"}
_VALUE = re.compile(
    r"\s*(?:a|=|en|to|at|:|->|→)\s*(?P<v>\d+(?:[.,]\d+)?(?:\s?(?:%|ms|min|seg|s|hz|a|v|rpm|kw)\b)?)",
    re.IGNORECASE,
)

SYSTEM_PROMPT = """\
You structure a field note written by a technician who services ABB ACS150 drives. Reply \
with one JSON object and nothing else, with exactly these keys:
{{"codes": ["F0002"], "parameters": [{{"id": "2203", "value": "8 s"}}], "symptom": "...", \
"action": "...", "machine": "..."}}
- codes: the fault and alarm codes the note names, written F0002 or A2010; [] if none.
- parameters: the parameters the note names, as their 4-digit number (22.03 is 2203), each \
with the value it was set to as the note writes it ("8 s"), or null when it gives none.
- symptom: what was wrong, in one short sentence. action: what was done or what fixed it. \
machine: the machine, pump, line or place the note names. null when the note does not say.
- Write symptom, action and machine in {language}, with the note's own words.
- Take everything from the note: never add a code, parameter or value it does not state."""

#: the structure's fields as `review show` and the Markdown report label them
LABELS = (
    ("machine", N_("Machine")),
    ("symptom", N_("Symptom")),
    ("action", N_("Action")),
)


class NoteFormatError(ValueError):
    """The model's reply is not the JSON object asked for."""


@dataclass(frozen=True)
class Structured:
    """What one structuring did to a note."""

    note: Message
    error: ApiError | None = None  # the endpoint failed: the note waits (or failed)


def is_note(message: Message) -> bool:
    return message.meta.get("kind") == NOTE


def local_structure(index: KnowledgeIndex, text: str) -> dict[str, Any]:
    """Codes and parameters the knowledge recognises in ``text``, with any value written
    right after a parameter ("2203 a 8 s"); what is known with no network."""
    codes: list[str] = []
    params: list[dict[str, Any]] = []
    for ident in index.named_in(text):
        entry = index.get(ident)
        if entry is None:
            continue
        if entry.kind in _CODE_KINDS:
            codes.append(entry.id)
        elif entry.kind in _PARAMETER_KINDS:
            params.append({"id": entry.id, "value": _value_after(text, entry.id)})
    return {"codes": codes, "parameters": params}


def _value_after(text: str, ident: str) -> str | None:
    written = re.escape(ident)
    if len(ident) == 4:  # 2203 is also written 22.03
        written = rf"\b(?:{ident}|{ident[:2]}[.,]{ident[2:]})\b"
    for found in re.finditer(written, text):
        value = _VALUE.match(text, found.end())
        if value is not None:
            return " ".join(value["v"].split())
    return None


def request(text: str, lang: str, local: dict[str, Any]) -> list[ChatMessage]:
    from omar_cli.llm.model import ChatMessage

    system = SYSTEM_PROMPT.format(language=_LANGUAGE.get(lang, "Spanish"))
    found = [*local.get("codes", ()), *(p["id"] for p in local.get("parameters", ()))]
    user = f"NOTE:\n{text}"
    if found:
        user += "\n\nCodes OMAR recognised in it: " + ", ".join(found)
    return [ChatMessage.of("system", system), ChatMessage.of("user", user)]


def parse_reply(reply: str, index: KnowledgeIndex, local: dict[str, Any]) -> dict[str, Any]:
    """The structure in the model's reply, checked; NoteFormatError when it is not one.

    Codes and parameters the knowledge does not hold are left out (listed under
    ``unknown``); the local parse's are always kept, and fill a value the model left out.
    """
    doc = _json_object(reply)
    codes = dict.fromkeys(local.get("codes", ()))
    params = {p["id"]: p.get("value") for p in local.get("parameters", ())}
    unknown: list[str] = []
    for raw in _list(doc, "codes"):
        entry = _known(index, _text(raw, "codes"), (*_CODE_KINDS, *_PARAMETER_KINDS))
        if entry is None:
            unknown.append(str(raw))
        elif entry.kind in _PARAMETER_KINDS:  # a parameter given as a code
            params.setdefault(entry.id, None)
        else:
            codes[entry.id] = None
    for raw in _list(doc, "parameters"):
        if isinstance(raw, dict):
            ident_raw, value = raw.get("id"), raw.get("value")
        else:
            ident_raw, value = raw, None
        param = _known(index, _text(ident_raw, "parameters"), _PARAMETER_KINDS)
        if param is None:
            unknown.append(str(ident_raw))
            continue
        value = _short(value, "parameters") if value is not None else None
        params[param.id] = value or params.get(param.id)
    found: dict[str, Any] = {
        "codes": list(codes),
        "parameters": [{"id": i, "value": v} for i, v in params.items()],
    }
    for key in ("symptom", "action", "machine"):
        value = doc.get(key)
        found[key] = _short(value, key) if value is not None else None
    found["unknown"] = unknown
    return found


def _json_object(reply: str) -> dict[str, Any]:
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end <= start:
        raise NoteFormatError(_("the model's reply holds no JSON object"))
    try:
        doc = json.loads(reply[start : end + 1])
    except ValueError as exc:
        why = _("the model's reply is not valid JSON ({error})").format(error=exc)
        raise NoteFormatError(why) from None
    if not isinstance(doc, dict):
        raise NoteFormatError(_("the model's reply holds no JSON object"))
    return doc


def _list(doc: dict[str, Any], key: str) -> list[Any]:
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise NoteFormatError(_("{key} in the model's reply is not a list").format(key=key))
    return value


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise NoteFormatError(_("{key} in the model's reply is not text").format(key=key))
    return str(value).strip()


#: what a model writes for a field the note does not fill
_NOTHING = frozenset(
    {
        *("n/a", "na", "none", "null", "unknown", "not stated"),
        *("desconocido", "desconocida", "ninguno", "ninguna", "no consta", "no indicado"),
    }
)


def _short(value: Any, key: str) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    clean = " ".join(_text(value, key).split())
    # "...", "-", "n/a": a small model fills the schema's slots with something
    if not any(ch.isalnum() for ch in clean) or clean.casefold() in _NOTHING:
        return None
    return clean[:MAX_FIELD_CHARS]


def _known(index: KnowledgeIndex, raw: str, kinds: Sequence[str]) -> Entry | None:
    from omar_cli.errors import NotFoundError

    for kind in kinds:
        try:
            return index.lookup(raw, kind)
        except NotFoundError:
            continue
    return None


# --------------------------------------------------------------------------- the flow


def structure_note(
    store: SessionStore,
    chat: ChatModel,
    index: KnowledgeIndex,
    note: Message,
    *,
    model: str,
) -> Structured:
    """Ask the model to structure a stored note and keep what it says on the note.

    An endpoint failure is returned, not raised: the note waits for `omar sync` when a
    retry may work, else it is marked failed (`omar sync --retry-failed`).
    """
    local = dict(note.meta.get("structure") or {})
    lang = str(local.get("lang") or index.detect_lang(note.text))
    try:
        result = chat.stream_chat(
            request(note.text, lang, local),
            model=model,
            temperature=0,
            max_tokens=MAX_TOKENS,
            json_object=True,  # a small local model is held to JSON by the server's grammar
        )
    except ApiError as exc:
        retry = worth_retrying(exc)
        status = "pending" if retry else "failed"
        meta = {**note.meta, "structure": {**local, "error": exc.message}}
        kept = store.update_message(
            note.id, status=status, error=exc.message, meta=meta, lease=None
        )
        return Structured(kept, error=exc)
    done: dict[str, Any] = {"lang": lang, "model": result.model, "profile": result.profile}
    done |= {"latency_ms": result.latency_ms, "version": STRUCTURE_VERSION}
    try:
        structure = {**local, **parse_reply(result.text, index, local), **done, "status": "done"}
    except NoteFormatError as exc:
        # the note and its local parse stand; the reply is kept for whoever reviews it
        structure = {**local, **done, "status": "invalid", "error": str(exc)}
        structure["reply"] = result.text[:2000]
    meta = {**note.meta, "structure": structure}
    named = (*structure.get("codes", ()), *(p["id"] for p in structure.get("parameters", ())))
    from omar_cli.store import Usage

    usage = Usage(**asdict(result.usage)) if result.usage is not None else None
    kept = store.update_message(
        note.id, status="answered", error=None, meta=meta, model=result.model, usage=usage,
        latency_ms=result.latency_ms, lease=None, sources=tuple(dict.fromkeys(named)),
    )  # fmt: skip
    return Structured(kept)


def complete_queued(
    store: SessionStore,
    chat: ChatModel,
    index: Callable[[], KnowledgeIndex],
    *,
    model: str,
) -> tuple[list[SyncItem], ApiError | None]:
    """Structure every queued note, oldest first (`omar sync`); stops at the first failure a
    retry may cure, as sync does for questions."""
    from omar_cli.results import SyncItem

    items: list[SyncItem] = []
    for queued in [m for m in store.pending() if is_note(m)]:
        note = store.claim(queued.id)
        if note is None:
            continue
        done = structure_note(store, chat, index(), note, model=model)
        if done.error is not None:
            if done.note.status == "pending":
                return items, done.error
            items.append(SyncItem(note.id, note.session_id, "failed", note.text,
                                  error=done.error.message))  # fmt: skip
            continue
        summary = summary_line(done.note)
        items.append(SyncItem(note.id, note.session_id, "structured", note.text,
                              answer=summary, message_id=note.id))  # fmt: skip
    return items, None


def structure_fields(m: Message) -> list[tuple[str, str]]:
    """A note's structure as (label, value) pairs in the interface language."""
    s = m.meta.get("structure") if is_note(m) else None
    if not s:
        return []
    pairs: list[tuple[str, str]] = []
    if s.get("codes"):
        pairs.append((_("Codes"), ", ".join(s["codes"])))
    params = [
        f"{p['id']} = {p['value']}" if p.get("value") else str(p["id"])
        for p in s.get("parameters") or ()
    ]
    if params:
        pairs.append((_("Parameters"), "; ".join(params)))
    for key, label in LABELS:
        if s.get(key):
            pairs.append((_(label), str(s[key])))
    pairs.append((_("Structure"), _status_word(s)))
    return pairs


_STATUS = {
    "done": N_("by the model"),
    "queued": N_("codes found here; waiting for omar sync"),
    "invalid": N_("the model's reply could not be read; codes found here"),
}


def _status_word(s: Any) -> str:
    word = _STATUS.get(str(s.get("status")))
    shown = _(word) if word else str(s.get("status"))
    if s.get("model") and s.get("status") == "done":
        shown += f" ({s['model']})"
    if s.get("status") == "invalid" and s.get("error"):
        shown += f": {s['error']}"
    return shown


def summary_line(m: Message) -> str:
    """One line for the structure: what `omar note` and `omar sync` print."""
    return " · ".join(f"{label}: {value}" for label, value in structure_fields(m))
