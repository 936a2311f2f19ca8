"""The local session store: sessions, messages and media, kept with TinyDB on local disk.

Domain-level: no printing, no environment; the caller passes the root folder in.
"""

from omar_cli.store.media import MediaFiles
from omar_cli.store.migrations import MIGRATIONS, Migration
from omar_cli.store.model import (
    MODES,
    REVIEW_STATES,
    ROLES,
    STATUSES,
    DamagedSession,
    Grounding,
    Lease,
    MediaRef,
    Message,
    Mode,
    Provenance,
    Review,
    ReviewState,
    Role,
    Session,
    SessionSummary,
    Status,
    StoreStats,
    Usage,
)
from omar_cli.store.session_files import CHUNK_SIZE
from omar_cli.store.store import SessionStore

__all__ = [
    "CHUNK_SIZE",
    "MIGRATIONS",
    "MODES",
    "REVIEW_STATES",
    "ROLES",
    "STATUSES",
    "DamagedSession",
    "Grounding",
    "Lease",
    "MediaFiles",
    "MediaRef",
    "Message",
    "Migration",
    "Mode",
    "Provenance",
    "Review",
    "ReviewState",
    "Role",
    "Session",
    "SessionStore",
    "SessionSummary",
    "Status",
    "StoreStats",
    "Usage",
]
