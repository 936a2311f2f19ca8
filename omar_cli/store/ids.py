"""Session and message ids: readable, sortable by time, and safe to use as path parts.

A message id carries its session and sequence number (``20261125-123501-3f9a.17``), so a
message is found by opening one chunk file, without scanning anything.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from omar_cli.errors import NotFoundError
from omar_cli.i18n import _

_SESSION_ID = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{4}")
_SEQ = re.compile(r"[1-9][0-9]*")


def new_session_id(now: datetime) -> str:
    # The random tail separates sessions started in the same second (other processes).
    return f"{now.astimezone(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def is_session_id(text: str) -> bool:
    # Checked before any id becomes a path, so "../x" can never reach the file system.
    return _SESSION_ID.fullmatch(text) is not None


def message_id(session_id: str, seq: int) -> str:
    return f"{session_id}.{seq}"


def parse_message_id(text: str) -> tuple[str, int]:
    session_id, _sep, seq = text.rpartition(".")
    if not is_session_id(session_id) or _SEQ.fullmatch(seq) is None:
        raise NotFoundError(
            _("no message {id}").format(id=repr(text)),
            hint=_("Message ids look like 20261125-123501-3f9a.7 (session id, dot, number)."),
        )
    return session_id, int(seq)
