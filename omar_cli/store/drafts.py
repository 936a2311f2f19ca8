"""What one write is about to store, checked before the lock is taken, and who holds what.

Helpers of ``SessionStore``: building and checking a message before its write, the
question an answer closes, leases, redaction of secrets, and the recent-session pointer.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from omar_cli.errors import StoreError
from omar_cli.i18n import _
from omar_cli.store.ids import is_session_id, parse_message_id
from omar_cli.store.locking import LockTimeout
from omar_cli.store.model import Lease, Message, Role, Status
from omar_cli.store.record import RecordError, check, from_doc
from omar_cli.store.session_files import SessionFiles
from omar_cli.store.storage import read_json, write_json_atomic

STATE_FILE = "state.json"
_STATE_TABLE = "state"


def draft(
    session_id: str, role: str, text: str, status: str, now: datetime, fields: Mapping[str, Any]
) -> Message:
    try:
        draft = Message(
            id="", session_id=session_id, seq=0, role=role,  # type: ignore[arg-type]
            text=text, status=status, created_at=now, updated_at=now,  # type: ignore[arg-type]
            **fields,
        )  # fmt: skip
    except TypeError as exc:
        raise ValueError(f"not a message field: {exc}") from None
    if draft.reply_to is not None:
        parse_message_id(draft.reply_to)
    try:
        return check(draft)
    except RecordError as exc:
        raise ValueError(str(exc)) from None


@contextmanager
def saying_what_was_lost(what: str) -> Iterator[None]:
    try:
        yield
    except LockTimeout as exc:
        raise LockTimeout(f"{exc.message}: {what}", exc.hint) from exc


def unsaved(draft: Message) -> str:
    if draft.role == Role.USER:
        return _("the question was not stored; ask it again")
    if draft.reply_to:
        return _(
            "the answer was not stored; question {id} stays pending, and `omar sync` will answer it"
        ).format(id=draft.reply_to)
    return _("the message was not stored")


def closes(draft: Message, session_id: str) -> int | None:
    """The seq of the question an answered reply closes, if it is in the same session."""
    if draft.role != Role.ASSISTANT or draft.status != Status.ANSWERED or not draft.reply_to:
        return None
    question_session, seq = parse_message_id(draft.reply_to)
    return seq if question_session == session_id else None


def has_answered_reply(files: SessionFiles, question_id: str, seq: int) -> bool:
    for _seq, doc in files.iter_from(seq + 1):
        if doc.get("reply_to") == question_id and doc["status"] == "answered":
            return True
    return False


def message_from(session_id: str, seq: int, doc: Mapping[str, Any]) -> Message:
    return from_doc(Message, doc, id=f"{session_id}.{seq}", session_id=session_id, seq=seq)


def _alive(pid: int) -> bool:
    if sys.platform == "win32":
        return True  # os.kill would end the process there: the lease's expiry decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def held_elsewhere(lease: Lease | None, owner: str, now: datetime) -> bool:
    """Whether another live process holds the lease (a dead one's lease is free)."""
    if lease is None or lease.owner == owner or lease.expires_at <= now:
        return False
    host, _sep, pid = lease.owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return _alive(int(pid))
    return True


def redacted(secrets: tuple[str, ...], value: Any) -> Any:
    """``value`` with every secret masked, in strings at any depth."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, f"{secret[:3]}…{secret[-4:]}")
        return value
    if isinstance(value, dict):
        return {k: redacted(secrets, v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(secrets, v) for v in value]
    return value


def read_pointer(root: Path) -> str | None:
    """The most recently active session, or None when the pointer is absent or damaged."""
    try:
        data = read_json(root / STATE_FILE)
    except StoreError:
        return None  # damaged: the next write replaces it
    pointer = (data or {}).get(_STATE_TABLE, {}).get("1") or {}
    session_id = pointer.get("recent_session")
    return session_id if isinstance(session_id, str) and is_session_id(session_id) else None


def write_pointer(root: Path, session_id: str) -> None:
    write_json_atomic(root / STATE_FILE, {_STATE_TABLE: {"1": {"recent_session": session_id}}})
