"""Shared list envelope and opaque cursors.

A cursor is base64url (unpadded) of a small JSON object; clients must treat it as opaque. A
cursor that does not decode to what the list expects is a 422 `invalid_cursor`, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict

from app.domain.errors import InvalidCursor

T = TypeVar("T")

MAX_CURSOR_CHARS = 512

Limit = Annotated[int, Query(ge=1, le=100, description="Page size (1–100).")]
Cursor = Annotated[
    str | None, Query(max_length=MAX_CURSOR_CHARS, description="Opaque `next_cursor` of the previous page.")
]


def _refused(c: str) -> bool:
    # Cc: control characters (PostgreSQL cannot even store NUL). Cf: format characters — the
    # bidirectional overrides (U+202E makes "exe.txt" read "txt.exe"), zero-width spaces and
    # joiners that make two names look alike, the BOM, soft hyphens.
    return unicodedata.category(c) in ("Cc", "Cf")


def single_line(value: str) -> str:
    """No control or invisible format characters at all."""
    if any(_refused(c) for c in value):
        raise ValueError("control and invisible format characters (Unicode Cc, Cf) are not allowed")
    return value


def multi_line(value: str) -> str:
    """Line breaks and tabs, but no other control characters and no invisible format characters."""
    if any(_refused(c) and c not in "\n\r\t" for c in value):
        raise ValueError("control characters other than line breaks and tabs, and format characters, are not allowed")
    return value


def utc_instant(value: datetime) -> datetime:
    """The instant in UTC (naive read as UTC); ValueError when it falls outside years 1–9999 in UTC
    (`0001-01-01T00:00:00+14:00` is in year 0 there, which neither Python nor our queries have)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError("the instant is outside the supported range (years 1–9999 in UTC)") from exc


class StrictBody(BaseModel):
    """Request bodies refuse unknown fields, so nobody can mass-assign what they may not set."""

    model_config = ConfigDict(extra="forbid")


class ListResponse(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, kind: str) -> dict[str, Any]:
    """The cursor's fields, if it is a well-formed cursor of list `kind`; InvalidCursor otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
    if not isinstance(data, dict) or data.get("k") != kind:
        raise InvalidCursor()
    return data


def encode_after(kind: str, key: uuid.UUID) -> str:
    return encode_cursor({"k": kind, "a": str(key)})


def decode_after(cursor: str | None, kind: str) -> uuid.UUID | None:
    """Keyset cursor of an id-ordered list: the last id served."""
    if cursor is None:
        return None
    value = decode_cursor(cursor, kind).get("a")
    if not isinstance(value, str):
        raise InvalidCursor()
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidCursor() from exc


def aware(instant: datetime | None) -> datetime | None:
    """The instant in UTC (a naive one is read as UTC); None stays None."""
    return None if instant is None else utc_instant(instant)


def cursor_instant(raw: object) -> datetime:
    """An instant stored in a cursor: ISO-8601 with an offset, within years 1–9999 in UTC."""
    if not isinstance(raw, str):
        raise InvalidCursor()
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidCursor() from exc
    if instant.tzinfo is None:
        raise InvalidCursor()
    try:
        return utc_instant(instant)
    except ValueError as exc:
        raise InvalidCursor() from exc
