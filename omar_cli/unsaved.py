"""Store writes an answer never waits on.

A full or read-only data folder, a lock held too long or a damaged session must not cost
the technician the answer: `ask` answers anyway, and says what was not saved and why
(exit 5). Inside ``tolerant()`` a failed write is noted instead of raised; outside it
(`sync`, which answers only what it can store) writes raise as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from omar_cli.errors import StoreError
from omar_cli.i18n import _
from omar_cli.store.model import Message, Role, Status

T = TypeVar("T")


@dataclass
class Ledger:
    lost: list[StoreError] = field(default_factory=list)
    #: False once the question itself could not be stored: nothing else is tried then
    question_saved: bool = True

    def not_saved(self) -> StoreError | None:
        """One error for everything that was not saved, None when all was."""
        if not self.lost:
            return None
        first = self.lost[0]
        if len(self.lost) == 1:
            return first
        return StoreError("; ".join(e.message for e in self.lost), hint=first.hint)


_LEDGER: ContextVar[Ledger | None] = ContextVar("omar_unsaved", default=None)


@contextmanager
def tolerant() -> Iterator[Ledger]:
    ledger = Ledger()
    token = _LEDGER.set(ledger)
    try:
        yield ledger
    finally:
        _LEDGER.reset(token)


def saving(what: str, write: Callable[[], T]) -> T | None:
    """``write()``; inside ``tolerant()`` a StoreError is noted under ``what`` (what was
    not saved) and None returned."""
    ledger = _LEDGER.get()
    if ledger is None:
        return write()
    if not ledger.question_saved:
        return None
    try:
        return write()
    except StoreError as exc:
        ledger.lost.append(note(what, exc))
        return None


def question_lost(exc: StoreError) -> bool:
    """Note that the question could not be stored; False outside ``tolerant()``, where
    the caller raises."""
    ledger = _LEDGER.get()
    if ledger is None:
        return False
    ledger.question_saved = False
    ledger.lost.append(note(_("the question and its answer were not saved"), exc))
    return True


def tolerate(what: str, exc: StoreError) -> bool:
    """Note a store failure the answer goes on without (once per answer); False outside
    ``tolerant()``, where the caller raises."""
    ledger = _LEDGER.get()
    if ledger is None:
        return False
    noted = note(what, exc)
    if all(e.message != noted.message for e in ledger.lost):
        ledger.lost.append(noted)
    return True


class UnopenedStore:
    """Stands in for a session store that could not be opened (a data folder that is a
    file, unreadable, or of a newer schema): every use raises the opening's error, so
    `ask` still answers and says why nothing was saved."""

    def __init__(self, error: StoreError) -> None:
        self._error = error

    def __getattr__(self, name: str) -> Any:
        raise self._error


def note(what: str, exc: StoreError) -> StoreError:
    return StoreError(_("{what}: {reason}").format(what=what, reason=exc.message), hint=exc.hint)


def unsaved_question(text: str, now: datetime) -> Message:
    """The question as a message that exists only in memory (no id, no session)."""
    return Message(
        id="",
        session_id="",
        seq=0,
        role=Role.USER,
        text=text,
        status=Status.PENDING,
        created_at=now,
        updated_at=now,
    )
