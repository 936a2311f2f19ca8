"""The one clock: aware UTC time, injectable wherever time is recorded."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
