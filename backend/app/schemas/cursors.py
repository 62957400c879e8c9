"""One cursor codec for every keyset-paginated list, and each list's cursor declared with it.

A cursor is base64url (unpadded) of a small JSON object: `k`, the list it belongs to, and one
named, typed part per key of the list's order (the last item served). Clients must treat it as
opaque. A cursor that does not decode to what the list expects — another list's, a part missing
or of the wrong type, an instant outside years 1–9999 in UTC, a sequence number that no row can
have — is a 422 `invalid_cursor`, never a 500 and never a silently different page.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from app.domain.errors import InvalidCursor
from app.domain.events import EVENT_RANKS
from app.domain.organizations import EventPosition
from app.schemas.common import utc_instant

V = TypeVar("V")
P = TypeVar("P")

MAX_SEQ = 2**63  # bigint identity columns


@dataclass(frozen=True, slots=True)
class Part(Generic[V]):
    """One key of a list's order: its name in the cursor, how it is written and read back."""

    name: str
    dump: Callable[[V], object]
    load: Callable[[object], V]  # raises InvalidCursor


def _load_id(raw: object) -> uuid.UUID:
    if not isinstance(raw, str):
        raise InvalidCursor()
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise InvalidCursor() from exc


def _load_instant(raw: object) -> datetime:
    """ISO-8601 with an offset, within years 1–9999 in UTC."""
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


def _load_seq(raw: object) -> int:
    if type(raw) is not int or not 0 < raw < MAX_SEQ:
        raise InvalidCursor()
    return raw


def an_id(name: str) -> Part[uuid.UUID]:
    return Part(name, str, _load_id)


def an_instant(name: str) -> Part[datetime]:
    return Part(name, datetime.isoformat, _load_instant)


def a_seq(name: str) -> Part[int]:
    return Part(name, int, _load_seq)


def one_of(name: str, allowed: Iterable[int]) -> Part[int]:
    values = frozenset(allowed)

    def load(raw: object) -> int:
        if type(raw) is not int or raw not in values:
            raise InvalidCursor()
        return raw

    return Part(name, int, load)


@dataclass(frozen=True, slots=True)
class CursorCodec(Generic[P]):
    """A list's cursor: its name, its parts in order, and the position they make."""

    list_name: str
    parts: tuple[Part[Any], ...]
    position: Callable[..., P]  # called with the loaded parts, in order

    def encode(self, *values: Any) -> str:
        """The cursor after the item whose keys are `values` (in the order of `parts`)."""
        assert len(values) == len(self.parts)
        data = {"k": self.list_name} | {part.name: part.dump(v) for part, v in zip(self.parts, values, strict=True)}
        raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode(self, cursor: str | None) -> P | None:
        """The position a cursor of this list stands for (None for no cursor); InvalidCursor otherwise."""
        if cursor is None:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise InvalidCursor() from exc
        if not isinstance(data, dict) or data.get("k") != self.list_name:
            raise InvalidCursor()
        return self.position(*(part.load(data.get(part.name)) for part in self.parts))


def _single(value: V) -> V:
    return value


def _pair(first: datetime, second: uuid.UUID) -> tuple[datetime, uuid.UUID]:
    return first, second


# Every list's cursor, by the keys of its order (newest first where an instant leads).
MY_ORGANIZATIONS: CursorCodec[uuid.UUID] = CursorCodec("orgs", (an_id("a"),), _single)
MEMBERS: CursorCodec[uuid.UUID] = CursorCodec("members", (an_id("a"),), _single)
ADMINS: CursorCodec[uuid.UUID] = CursorCodec("admins", (an_id("a"),), _single)
SESSIONS: CursorCodec[tuple[datetime, uuid.UUID]] = CursorCodec("sessions", (an_instant("c"), an_id("i")), _pair)
API_KEYS: CursorCodec[tuple[datetime, uuid.UUID]] = CursorCodec("api_keys", (an_instant("t"), an_id("i")), _pair)
INVITATIONS: CursorCodec[int] = CursorCodec("invitations", (a_seq("s"),), _single)
EVENTS: CursorCodec[EventPosition] = CursorCodec(
    "events", (an_instant("t"), one_of("r", EVENT_RANKS.values()), a_seq("i")), EventPosition
)
