"""Team hand-over: a bundle of sessions, review state and media, merged on another laptop.

A bundle is one gzip-compressed JSON file: the sessions (their own ids, which are unique
across laptops: a second-resolution time plus a random tail), every message with its seq,
the media the messages send (photos as they were sent: re-encoded without EXIF/GPS; the
untouched originals stay home), and a sha256 over all of it. Import checks everything first
and writes nothing from a file that is damaged, foreign or inconsistent; then it adds what
the store lacks, takes a newer review verdict, and leaves everything else as it was, so
importing the same bundle twice changes nothing.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omar_cli.errors import InputError, NotFoundError
from omar_cli.i18n import _
from omar_cli.review_export import ALL_TIME, Range, _sessions

if TYPE_CHECKING:
    from omar_cli.store import Message, Review, SessionStore

FORMAT = "omar-review-bundle"
VERSION = 1
#: meta a bundle leaves behind: the originals of photos, which may carry GPS and EXIF
PRIVATE_META = ("original_media",)


@dataclass(frozen=True)
class BundleWritten:
    path: Path
    sessions: int
    messages: int
    media: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class BundleImported:
    sessions_added: int
    sessions_merged: int
    messages_added: int
    reviews_updated: int
    media_added: int
    #: message ids held here with other content than the bundle's (left as they are)
    conflicts: tuple[str, ...] = ()


def _digest(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _message_doc(m: Message) -> dict[str, Any]:
    from omar_cli.store.record import to_doc

    doc = to_doc(replace(m, lease=None))
    doc["meta"] = {k: v for k, v in (doc.get("meta") or {}).items() if k not in PRIVATE_META}
    return {"seq": m.seq, **doc}


def write_bundle(store: SessionStore, path: Path, when: Range = ALL_TIME) -> BundleWritten:
    sessions: list[dict[str, Any]] = []
    media: dict[str, Path] = {}
    count = 0
    for session_id in _sessions(store, when):
        session = store.get_session(session_id)
        messages = store.messages(session_id)
        for m in messages:
            for sha256 in m.media:
                media.setdefault(sha256, store.media_path(sha256))
        count += len(messages)
        sessions.append(
            {
                "id": session.id,
                "created_at": session.created_at.isoformat(),
                "title": session.title,
                "meta": dict(session.meta),
                "messages": [_message_doc(m) for m in messages],
            }
        )
    files = [
        {
            "sha256": sha,
            "suffix": p.suffix.lstrip("."),
            "data": base64.b64encode(p.read_bytes()).decode("ascii"),
        }
        for sha, p in sorted(media.items())
    ]
    body = {"format": FORMAT, "version": VERSION, "sessions": sessions, "media": files}
    digest = _digest(body)
    data = gzip.compress(json.dumps({**body, "sha256": digest}).encode("utf-8"), mtime=0)
    from omar_cli.atomic import atomic_write_bytes

    atomic_write_bytes(path, data)
    return BundleWritten(path, len(sessions), count, len(files), len(data), digest)


# -- import ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    sessions: list[tuple[dict[str, Any], list[Message]]]
    media: list[tuple[str, str, bytes]]


def _refuse(path: Path, why: str) -> InputError:
    return InputError(
        _("{path} is not a usable OMAR review bundle: {why}").format(path=path, why=why),
        hint=_("nothing was imported; ask for the bundle again (omar review export --bundle)"),
    )


def read_bundle(path: Path) -> _Checked:
    """The bundle's contents, every part checked; InputError (nothing read) otherwise."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(
            _("cannot read {path}: {error}").format(path=path, error=exc.strerror or exc)
        ) from None
    try:
        doc = json.loads(gzip.decompress(raw))
    except (OSError, EOFError, ValueError):
        raise _refuse(path, _("not a bundle file, or cut short")) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _refuse(path, _("not a bundle file, or cut short"))
    if doc.get("version") != VERSION:
        raise _refuse(path, _("bundle version {v} is not supported").format(v=doc.get("version")))
    body = {k: v for k, v in doc.items() if k != "sha256"}
    if doc.get("sha256") != _digest(body):
        raise _refuse(path, _("its checksum does not match (damaged or altered)"))
    try:
        return _Checked(_checked_sessions(doc["sessions"]), _checked_media(doc["media"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise _refuse(path, str(exc)) from None


def _checked_sessions(sessions: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[Message]]]:
    from omar_cli.store import Message
    from omar_cli.store.ids import is_session_id
    from omar_cli.store.record import RecordError, from_doc

    found = []
    for s in sessions:
        if not is_session_id(s["id"]):
            raise ValueError(f"bad session id {s['id']!r}")
        datetime.fromisoformat(s["created_at"])
        messages = []
        for doc in s["messages"]:
            seq = int(doc["seq"])
            body = {k: v for k, v in doc.items() if k != "seq"}
            try:
                m = from_doc(Message, body, id=f"{s['id']}.{seq}", session_id=s["id"], seq=seq)
            except RecordError as exc:
                raise ValueError(f"message {s['id']}.{seq}: {exc}") from None
            messages.append(m)
        found.append((s, messages))
    return found


def _checked_media(media: list[dict[str, Any]]) -> list[tuple[str, str, bytes]]:
    from omar_cli.store.media import normalise_suffix

    found = []
    for item in media:
        data = base64.b64decode(item["data"], validate=True)
        if hashlib.sha256(data).hexdigest() != item["sha256"]:
            raise ValueError(f"media {item['sha256'][:12]} does not match its hash")
        found.append((item["sha256"], normalise_suffix(item["suffix"]), data))
    return found


def import_bundle(store: SessionStore, path: Path) -> BundleImported:
    checked = read_bundle(path)
    media_added = 0
    for sha256, suffix, data in checked.media:  # first: messages must find their media
        try:
            store.media_path(sha256)
        except NotFoundError:  # absent here
            store.add_media(data, suffix)
            media_added += 1
    added = merged = messages = reviews = 0
    conflicts: list[str] = []
    known = {s.id for s in store.summaries()}
    for session, incoming in checked.sessions:
        sid = session["id"]
        created = datetime.fromisoformat(session["created_at"])
        if sid in known:
            merged += 1
            local = {m.seq: m for m in store.messages(sid)}
        else:
            added += 1
            local = {}
        fresh = [m for m in incoming if m.seq not in local]
        if fresh or sid not in known:
            meta = dict(session.get("meta") or {})
            messages += len(store.merge_session(sid, created, session.get("title"), meta, fresh))
        for m in incoming:
            mine = local.get(m.seq)
            if mine is None:
                continue
            if _content(mine) != _content(m):
                conflicts.append(m.id)
            elif _newer_review(m, mine):
                store.update_message(m.id, review=m.review)
                reviews += 1
    return BundleImported(added, merged, messages, reviews, media_added, tuple(conflicts))


def _content(m: Message) -> tuple[str, str, str]:
    return (m.role, m.text, m.created_at.isoformat())


def _newer_review(theirs: Message, mine: Message) -> bool:
    """Whether the bundle's verdict should replace ours: a verdict given later wins."""
    if theirs.review is None or theirs.review == mine.review:
        return False
    their_time = _last_change(theirs.review)
    if their_time is None:
        return False
    ours = _last_change(mine.review) if mine.review is not None else None
    return ours is None or their_time > ours


def _last_change(review: Review) -> datetime | None:
    """When a verdict last changed: given, or withdrawn (a withdrawal travels too)."""
    moments = [t for t in (review.at, review.withdrawn_at) if t is not None]
    return max(moments) if moments else None
