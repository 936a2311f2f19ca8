"""The local session store: sessions, messages and media, kept with TinyDB on local disk.

Domain-level: no printing, no environment; the caller passes the root folder in.
"""

from omar_cli.clock import utc_now
from omar_cli.store.media import MediaFiles
from omar_cli.store.migrations import MIGRATIONS, Migration
from omar_cli.store.model import (
    KEEP,
    MODES,
    ROLES,
    STATUSES,
    DamagedSession,
    MediaRef,
    Message,
    Session,
    StoreStats,
    Usage,
)
from omar_cli.store.session_files import CHUNK_SIZE
from omar_cli.store.store import SessionStore

__all__ = [
    "CHUNK_SIZE",
    "KEEP",
    "MIGRATIONS",
    "MODES",
    "ROLES",
    "STATUSES",
    "DamagedSession",
    "MediaFiles",
    "MediaRef",
    "Message",
    "Migration",
    "Session",
    "SessionStore",
    "StoreStats",
    "Usage",
    "utc_now",
]
