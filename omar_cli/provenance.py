"""What produced an answer, as stored with it, and the request rebuilt from the store.

An online answer keeps the grounding text it was given in full (with its sha256 and entry
ids), the parameters of the call, and the sha256 of the whole request; the other parts of the
request (the system prompt of its version, the question, the earlier turns and photos) are
already in the store, named by id and sha256. ``rebuild_request`` puts them back together,
so a reviewer sees exactly what the model saw and can check it against the stored hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from omar_cli.prompt import PROMPT_VERSION, Turn, build_messages
from omar_cli.prompt import Grounding as SentGrounding

if TYPE_CHECKING:
    from omar_cli.llm.model import ChatMessage, ImagePart
    from omar_cli.store import Message, Provenance, SessionStore

#: media kept with a message that travel as image parts (recordings do not)
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp"})


def online_provenance(
    *,
    model_text: str,
    safety_note: str | None,
    grounding: SentGrounding,
    request_sha256: str,
    history: Sequence[Turn],
    unknown: str | None,
    model: str,
    host: str,
    finish_reason: str | None,
) -> Provenance:
    from omar_cli.store import Grounding, Provenance

    request: dict[str, Any] = {
        "model": model,
        "temperature": None,  # the endpoint's default: OMAR sends none
        "max_tokens": None,
        "stream": True,
        "history": [t.message_id for t in history],
        "history_media": [sha for t in history for sha in t.image_media],
        "unknown_block": unknown,
        "sha256": request_sha256,
    }
    return Provenance(
        model_text=model_text,
        safety_note=safety_note,
        grounding=Grounding(
            entry_ids=tuple(h.id for h in grounding.hits),
            sha256=hashlib.sha256(grounding.text.encode("utf-8")).hexdigest(),
            text=grounding.text,
        ),
        prompt_version=PROMPT_VERSION,
        endpoint_host=host,
        request=request,
        finish_reason=finish_reason,
    )


def offline_provenance(entry_ids: Sequence[str]) -> Provenance:
    """An answer from the knowledge alone: no model, no prompt; the entries it shows."""
    from omar_cli.store import Grounding, Provenance

    return Provenance(grounding=Grounding(entry_ids=tuple(entry_ids)))


def stored_images(
    store: SessionStore, message: Message, only: Sequence[str] | None = None
) -> tuple[ImagePart, ...]:
    """The photos a stored message carries (those in ``only``, when given), read back."""
    from omar_cli.llm.model import ImageDetail, ImagePart

    # the detail the photo was asked with (omar image --detail) travels with it to sync
    stored = message.meta.get("image_detail")
    detail: ImageDetail = stored if stored in ("low", "high") else "auto"
    found = []
    for sha256 in message.media:
        path = store.media_path(sha256)
        if path.suffix in IMAGE_SUFFIXES and (only is None or sha256 in only):
            found.append(ImagePart.from_bytes(path.read_bytes(), detail=detail))
    return tuple(found)


def rebuild_request(store: SessionStore, answer: Message) -> list[ChatMessage]:
    """The chat request that produced ``answer``, rebuilt from what the store keeps.

    Exact for answers of the current prompt version (the system prompt of older ones is
    not kept); ``request_sha256`` of the result equals the stored ``request["sha256"]``.
    ValueError when the answer has no online provenance.
    """
    prov = answer.provenance
    if prov is None or prov.grounding is None or prov.grounding.text is None:
        raise ValueError(f"answer {answer.id} has no record of an online request")
    if answer.reply_to is None:
        raise ValueError(f"answer {answer.id} does not say which question it answers")
    if prov.prompt_version != PROMPT_VERSION:
        raise ValueError(f"prompt {prov.prompt_version} is not this version's ({PROMPT_VERSION})")
    question = store.get_message(answer.reply_to)
    sent_media = list(prov.request.get("history_media", ()))
    turns = []
    for message_id in prov.request.get("history", ()):
        earlier = store.get_message(message_id)
        images = stored_images(store, earlier, only=sent_media)
        shas = tuple(s for s in earlier.media if s in sent_media)
        if earlier.role == "user":
            turns.append(Turn("user", earlier.text, earlier.id, earlier.media, images, shas))
        else:
            turns.append(Turn("assistant", earlier.text, earlier.id))
    grounding = SentGrounding(hits=(), text=prov.grounding.text)
    unknown = prov.request.get("unknown_block")
    return build_messages(question.text, grounding, turns, unknown, stored_images(store, question))
