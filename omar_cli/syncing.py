"""`omar sync`: what waited for the network, sent once it is back.

Voice notes are transcribed first (so one that asked a question is answered in the same
run), field notes are structured, then the pending questions are answered oldest first.
The run stops at the first failure a retry or a fix may cure, and keeps the rest pending.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from omar_cli.errors import ApiError, NoApiKeyError, worth_retrying
from omar_cli.i18n import _
from omar_cli.results import Problem, SyncItem, SyncReport

if TYPE_CHECKING:
    from omar_cli.assistant import Assistant
    from omar_cli.llm.model import ChatModel


def sync_queue(
    assistant: Assistant,
    on_progress: Callable[[int, int], None] | None = None,
    *,
    retry_failed: bool = False,
) -> SyncReport:
    """Send every pending question, oldest first; stop at the first failure a fix cures.

    ``retry_failed`` first puts the questions that failed back in the queue.
    """
    from omar_cli.note_structure import complete_queued
    from omar_cli.transcription import VoiceNotes

    store = assistant.store
    chat = assistant.chat()
    voice = VoiceNotes(assistant)
    # without a key, the local model may still transcribe the queued voice notes
    if chat is None and not voice.local_ready():
        raise no_key_to_sync()
    # One sync at a time, so two of them never send the same question twice; the store's
    # write lock stays free meanwhile, so `omar ask` keeps working.
    with store.sync_lock():
        if retry_failed:
            store.retry_failed()
        done, error = voice.complete_queued(chat)
        if error is None and chat is not None:
            # field notes: structured, never answered (note_structure.py)
            notes, error = complete_queued(
                store, chat, assistant.knowledge, model=assistant.settings.model
            )
            done += notes
        if error is None and chat is None and store.pending():
            error = no_key_to_sync()
        if error is not None:
            return SyncReport(tuple(done), len(store.pending()), error=Problem.of(error))
        if chat is None:
            return SyncReport(tuple(done), 0)
        report = _answer_pending(assistant, chat, on_progress)
        return replace(report, items=(*done, *report.items))


def _answer_pending(
    assistant: Assistant, chat: ChatModel, on_progress: Callable[[int, int], None] | None
) -> SyncReport:
    from omar_cli.note_structure import is_note
    from omar_cli.transcription import is_recording

    store = assistant.store
    # recordings and notes are completed by their own steps, never sent as questions
    pending = [m for m in store.pending() if not is_recording(m) and not is_note(m)]
    items: list[SyncItem] = []
    held = 0  # being answered by a running `ask`: left to it
    for done, queued in enumerate(pending):
        if on_progress:
            on_progress(done, len(pending))
        # None: answered meanwhile, or an `ask` still streaming it holds its lease.
        asked = store.claim(queued.id)
        if asked is None:
            held += store.get_message(queued.id).status == "pending"
            continue
        try:
            item = assistant.answer_queued(chat, asked)
        except ApiError as exc:
            # A refusal is the question's own only if this endpoint, model and key
            # answered an earlier one; otherwise a config fix cures it for all.
            if worth_retrying(exc) or not any(i.status == "answered" for i in items):
                store.update_message(asked.id, status="pending", error=exc.message)
                left = len(pending) - done + held
                return SyncReport(tuple(items), remaining=left, error=Problem.of(exc))
            store.update_message(asked.id, status="failed", error=exc.message)
            items.append(
                SyncItem(asked.id, asked.session_id, "failed", asked.text, error=exc.message)
            )
            continue
        items.append(item)
    if on_progress:
        on_progress(len(pending), len(pending))
    return SyncReport(tuple(items), remaining=held)


def no_key_to_sync() -> NoApiKeyError:
    return NoApiKeyError(
        _("no API key configured, so pending questions cannot be sent"),
        hint=_("set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server), then omar sync"),
    )
