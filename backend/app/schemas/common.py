"""Shared list envelope, query parameters and input checks (cursors: `schemas/cursors.py`)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict

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


def aware(instant: datetime | None) -> datetime | None:
    """The instant in UTC (a naive one is read as UTC); None stays None."""
    return None if instant is None else utc_instant(instant)
