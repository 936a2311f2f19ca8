"""Generic conversion between frozen record dataclasses and plain JSON documents.

A record's fields and their types are the one description of what is stored: ``to_doc``
walks them to build a TinyDB document, ``from_doc`` walks them to rebuild and check a record.
Adding a field is adding it to the dataclass, with a default so older documents still read.

Supported field types: str, int, float, bool, datetime (ISO 8601 text), StrEnum members
(their value), nested record dataclasses, ``tuple[T, ...]``, ``Mapping[str, Any]`` (any
JSON-able data, frozen on the way out) and ``X | None`` of any of these. A field whose
metadata says ``stored=False`` is the record's identity, kept in the file name or key.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

T = TypeVar("T")

#: field metadata for identity fields that are not part of the stored document
IDENTITY = {"stored": False}


class RecordError(ValueError):
    """A document does not fit its record: a damaged file, or a caller's bug."""


def iso(moment: datetime) -> str:
    # Fixed width (always microseconds) so stored timestamps also sort as strings.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def frozen_map(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    # A deep copy so nested dicts are not shared with the cached file contents.
    return MappingProxyType(copy.deepcopy(dict(data)) if data else {})


_FIELDS: dict[type, tuple[tuple[str, Any, bool], ...]] = {}


def _fields(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """(name, type, stored) of each field; resolved once per class."""
    found = _FIELDS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = tuple(
            (f.name, hints[f.name], f.metadata.get("stored", True)) for f in dataclasses.fields(cls)
        )
        _FIELDS[cls] = found
    return found


def stored_names(cls: type) -> frozenset[str]:
    return frozenset(name for name, _hint, stored in _fields(cls) if stored)


def to_doc(record: object) -> dict[str, Any]:
    """The record's stored fields as JSON-able data."""
    return {
        name: _dump(getattr(record, name))
        for name, _hint, stored in _fields(type(record))
        if stored
    }


def _dump(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime):
        return iso(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_doc(value)
    if isinstance(value, tuple | list):
        return [_dump(v) for v in value]
    if isinstance(value, Mapping):
        return copy.deepcopy(dict(value))
    return value


def from_doc(cls: type[T], doc: Mapping[str, Any], **identity: Any) -> T:
    """Rebuild (and check) a record; a field absent from ``doc`` takes its default.

    RecordError names the first field that does not fit.
    """
    if not isinstance(doc, Mapping):
        raise RecordError(f"not an object: {type(doc).__name__}")
    values = dict(identity)
    for name, hint, stored in _fields(cls):
        if not stored or name not in doc:
            continue
        try:
            values[name] = _load(hint, doc[name])
        except (TypeError, ValueError) as exc:
            raise RecordError(f"{name!r}: {exc}") from None
    try:
        return cls(**values)
    except TypeError as exc:  # a required field is absent
        raise RecordError(str(exc)) from None


_SHAPES: dict[Any, tuple[Any, tuple[Any, ...]]] = {}


def _shape(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    """``get_origin`` and ``get_args`` of a type hint, worked out once per hint: whole-session
    reads (review exports) build tens of thousands of records."""
    found = _SHAPES.get(hint)
    if found is None:
        found = _SHAPES[hint] = (typing.get_origin(hint), typing.get_args(hint))
    return found


def _load(hint: Any, value: Any) -> Any:
    origin, args = _shape(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _load(inner, value)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        item = args[0]
        return tuple(_load(item, v) for v in value)
    if origin is not None and issubclass(origin, Mapping):
        if not isinstance(value, Mapping):
            raise TypeError(f"expected an object, got {type(value).__name__}")
        return frozen_map(value)
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return hint(value)
    if hint is datetime:
        return _datetime(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = to_doc(value)  # a look-alike (the client's usage): same fields, copied
        return from_doc(hint, value)
    if hint is float and type(value) is int:
        return float(value)
    if hint is Any or (type(value) is hint):
        return value
    raise TypeError(f"expected {getattr(hint, '__name__', hint)}, got {type(value).__name__}")


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value)
    else:
        raise TypeError(f"expected an ISO 8601 timestamp, got {type(value).__name__}")
    if moment.tzinfo is None:
        raise ValueError("timestamp without a time zone")
    return moment


def check(record: T) -> T:
    """The record rebuilt from its own document: vocabularies and types checked."""
    identity = {
        name: getattr(record, name) for name, _h, stored in _fields(type(record)) if not stored
    }
    return from_doc(type(record), to_doc(record), **identity)
