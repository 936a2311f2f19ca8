"""A question about photos, through the assistant core, with the codes it names linked.

The photos come already checked and pre-processed (``images.prepare_images``). Their original
bytes are stored by sha256; what was sent (the small, stripped JPEG) is stored by the core
as the question's media, so `omar sync` sends exactly that and never the original with its
GPS. Fault and alarm codes, parameter numbers and ACS150 type codes found in the question
or the answer are linked to the local knowledge entries.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from omar_cli.errors import InputError, NoVisionError, StoreError
from omar_cli.i18n import _
from omar_cli.images import PreparedImage, default_question, text
from omar_cli.knowledge.codes import CODE_KINDS, Names, code_aliases, mentions, name_rows
from omar_cli.sources import SourceRef, entry_ref
from omar_cli.unsaved import saving, tolerant

if TYPE_CHECKING:
    from omar_cli.assistant import AskResult, Assistant
    from omar_cli.knowledge.index import KnowledgeIndex
    from omar_cli.knowledge.model import Entry

_COMMANDS = {"fault": "omar fault", "alarm": "omar alarm", "parameter": "omar param"}


@dataclass(frozen=True)
class LinkedEntry:
    """A knowledge entry a code in the question or the answer names."""

    id: str
    kind: str
    name: str
    title: str
    source: str
    confidence: str
    found_in: str  # "question" or "answer"
    #: the entry's own summary for a drive rating (type code), else None
    summary: str | None = None
    #: the look-up that shows it in full ("omar fault F0002"), where there is one
    command: str | None = None


@dataclass(frozen=True)
class ImageResult:
    ask: AskResult
    images: tuple[PreparedImage, ...]
    question: str
    default_question: bool
    #: what is shown as the answer: the model's; offline, the knowledge's answer for a code
    #: the question names, or else the notice that the photo waits for `omar sync`
    reply: str
    linked: tuple[LinkedEntry, ...]
    sources: tuple[SourceRef, ...]
    no_vision: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = self.ask.to_dict()
        data.update(
            answer=self.reply,
            question=self.question,
            default_question=self.default_question,
            sources=[s.__dict__ for s in self.sources],
            linked=[e.__dict__ for e in self.linked],
            images=[i.to_dict() for i in self.images],
            image=self.images[0].to_dict(),
            no_vision=self.no_vision,
        )
        return data


def ask_about_photos(
    assistant: Assistant,
    images: Sequence[PreparedImage],
    question: str | None,
    *,
    lang: str,
    session_id: str | None = None,
    new_session: bool = False,
    offline: bool = False,
    on_delta: Callable[[str], None] | None = None,
) -> ImageResult:
    """Ask ``question`` (or the default question in ``lang``) about checked photos.

    A photo not analysed now (offline, network down, an endpoint without vision) stays
    queued with its question for `omar sync`.
    """
    own = (question or "").strip()
    asked = own or default_question(lang)
    store = assistant.store
    _check_before_storing(assistant, asked, session_id, lang)
    try:
        originals = [store.add_media(i.original, i.suffix).sha256 for i in images]
    except StoreError:
        # the question's own storing meets the same failure: `ask` answers and says so
        originals = []
    meta = {
        "images": [i.to_dict() for i in images],
        "original_media": originals,
        "image_detail": images[0].sent.detail,
        "default_question": not own,
    }
    result = assistant.ask(
        asked,
        session_id=session_id,
        new_session=new_session,
        offline=offline,
        queue=True,  # a photo is analysed online only: offline it always waits for sync
        on_delta=on_delta,
        images=[i.part for i in images],
        meta=meta,
    )
    with tolerant():  # documents that cannot be read: ask has already said so
        index = assistant.knowledge()
    lang = result.lang
    linker = CodeLinker(index)
    linked = linker.link(own, lang, "question")
    if result.mode == "online":
        seen = {e.id for e in linked}
        linked += [e for e in linker.link(result.answer, lang, "answer") if e.id not in seen]
    reply, sources = result.answer, result.sources
    if result.mode == "offline" and not linked:  # the knowledge has nothing to say yet
        reply, sources = _waiting_notice(result, lang), ()
    sources = _with_linked(sources, linked, index, lang)
    changed = reply != result.answer or sources != result.sources
    if changed and result.message_id is not None:  # the store keeps what was shown
        message_id = result.message_id
        saving(
            _("the answer was not saved"),
            lambda: store.update_message(message_id, text=reply, sources=[s.id for s in sources]),
        )
    return ImageResult(
        ask=result,
        images=tuple(images),
        question=asked,
        default_question=not own,
        reply=reply,
        linked=tuple(linked),
        sources=sources,
        no_vision=_no_vision(result),
    )


def _check_before_storing(
    assistant: Assistant, question: str, session_id: str | None, lang: str
) -> None:
    """What the core would refuse after the originals were stored: refused before them."""
    from omar_cli.assistant import MAX_QUESTION_CHARS

    if len(question) > MAX_QUESTION_CHARS:
        said = text(lang, "too_long", length=len(question), limit=MAX_QUESTION_CHARS)
        raise InputError(said, hint=text(lang, "too_long_hint"))
    if session_id:
        assistant.store.get_session(session_id)  # NotFoundError for an unknown id


def _no_vision(result: AskResult) -> bool:
    return result.error is not None and result.error.kind == NoVisionError.__name__


def _waiting_notice(result: AskResult, lang: str) -> str:
    if _no_vision(result):
        return text(lang, "no_vision")
    if result.question_id is None:  # the store could not keep the photo either
        return text(lang, "not_kept")
    return text(lang, "queued" if result.queued else "not_analysed")


def _with_linked(
    sources: tuple[SourceRef, ...],
    linked: Sequence[LinkedEntry],
    index: KnowledgeIndex,
    lang: str,
) -> tuple[SourceRef, ...]:
    have = {s.id for s in sources}
    extra = []
    for found in linked:
        entry = index.get(found.id)
        if entry is not None and found.id not in have:
            extra.append(entry_ref(entry, lang, cited=False))
    return (*sources, *extra)


class CodeLinker:
    """Finds the codes a text names (F0002, A2010, 22.02, ACS150-03E-04A7-2, EXT FAULT 1...)
    and the entries that hold them, as `omar fault`/`param` would resolve them."""

    def __init__(self, index: KnowledgeIndex) -> None:
        self.index = index
        entries = index.entries
        self._hex = {e.hex_code.upper(): e.id for e in entries if e.hex_code}
        self._aliases = code_aliases(entries)
        self._names = Names(name_rows(entries))

    def _entry(self, ident: str) -> Entry | None:
        entry = self.index.get(ident)
        if entry is None and ident in self._aliases:
            entry = self.index.get(self._aliases[ident])
        return entry if entry is not None and entry.kind in CODE_KINDS else None

    def link(self, body: str, lang: str, found_in: str) -> list[LinkedEntry]:
        if not body.strip():
            return []
        known = _Known(self._entry)
        found: dict[str, LinkedEntry] = {}
        for group in mentions(body, known=known, hex_map=self._hex, names=self._names):
            for ident in group:
                entry = self._entry(ident)
                if entry is not None and entry.id not in found:
                    found[entry.id] = _linked(entry, lang, found_in)
        return list(found.values())


class _Known(Container[str]):
    def __init__(self, resolve: Callable[[str], Entry | None]) -> None:
        self._resolve = resolve

    def __contains__(self, ident: object) -> bool:
        return isinstance(ident, str) and self._resolve(ident) is not None


def _linked(entry: Entry, lang: str, found_in: str) -> LinkedEntry:
    ref = entry_ref(entry, lang, cited=False, conflicts=())
    body = entry.text_in(lang)
    command = _COMMANDS.get(entry.kind)
    return LinkedEntry(
        id=entry.id,
        kind=entry.kind,
        name=entry.name,
        title=body.title,
        source=ref.source,
        confidence=entry.confidence,
        found_in=found_in,
        summary=body.text.strip() if entry.kind == "rating" else None,
        command=f"{command} {entry.id}" if command else None,
    )
