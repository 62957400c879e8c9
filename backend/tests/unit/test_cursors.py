"""The one cursor codec: every list's cursor round-trips, and nothing else decodes."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import InvalidCursor
from app.domain.events import EVENT_RANKS
from app.domain.organizations import EventPosition
from app.schemas import cursors
from app.schemas.cursors import CursorCodec

ALL = [
    cursors.MY_ORGANIZATIONS,
    cursors.MEMBERS,
    cursors.ADMINS,
    cursors.SESSIONS,
    cursors.API_KEYS,
    cursors.INVITATIONS,
    cursors.EVENTS,
]

instants = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))
seqs = st.integers(min_value=1, max_value=2**63 - 1)


def wire(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_every_list_has_its_own_name() -> None:
    assert len({codec.list_name for codec in ALL}) == len(ALL)


@given(st.uuids())
def test_id_cursors_round_trip(key: uuid.UUID) -> None:
    for codec in (cursors.MY_ORGANIZATIONS, cursors.MEMBERS, cursors.ADMINS):
        assert codec.decode(codec.encode(key)) == key


@given(instants, st.uuids())
def test_instant_and_id_cursors_round_trip(instant: datetime, key: uuid.UUID) -> None:
    for codec in (cursors.SESSIONS, cursors.API_KEYS):
        assert codec.decode(codec.encode(instant, key)) == (instant, key)


@given(instants, st.sampled_from(sorted(EVENT_RANKS.values())), seqs)
def test_event_cursors_round_trip(instant: datetime, rank: int, seq: int) -> None:
    position = EventPosition(occurred_at=instant, rank=rank, seq=seq)
    assert cursors.EVENTS.decode(cursors.EVENTS.encode(instant, rank, seq)) == position


@given(seqs)
def test_invitation_cursors_round_trip(seq: int) -> None:
    assert cursors.INVITATIONS.decode(cursors.INVITATIONS.encode(seq)) == seq


def test_no_cursor_is_no_position() -> None:
    assert all(codec.decode(None) is None for codec in ALL)


@pytest.mark.parametrize("codec", ALL, ids=lambda c: c.list_name)
def test_another_lists_cursor_is_refused(codec: CursorCodec[Any]) -> None:
    other = cursors.MEMBERS if codec is not cursors.MEMBERS else cursors.ADMINS
    with pytest.raises(InvalidCursor):
        codec.decode(other.encode(uuid.uuid4()))


@pytest.mark.parametrize(
    ("codec", "data"),
    [
        (cursors.MEMBERS, {"k": "members"}),  # the key is missing
        (cursors.MEMBERS, {"k": "members", "a": "not-a-uuid"}),
        (cursors.MEMBERS, {"k": "members", "a": 5}),
        (cursors.SESSIONS, {"k": "sessions", "c": "2026-01-01T00:00:00", "i": str(uuid.uuid4())}),  # naive
        (cursors.SESSIONS, {"k": "sessions", "c": "0001-01-01T00:00:00+01:00", "i": str(uuid.uuid4())}),
        (cursors.INVITATIONS, {"k": "invitations", "s": True}),  # a bool is no sequence number
        (cursors.INVITATIONS, {"k": "invitations", "s": 0}),
        (cursors.INVITATIONS, {"k": "invitations", "s": 2**63}),
        (cursors.EVENTS, {"k": "events", "t": "2026-01-01T00:00:00+00:00", "r": 999, "i": 1}),
        (cursors.EVENTS, {"k": "events", "t": "2026-01-01T00:00:00+00:00", "r": 1.0, "i": 1}),
    ],
)
def test_malformed_parts_are_refused(codec: CursorCodec[Any], data: dict[str, object]) -> None:
    with pytest.raises(InvalidCursor):
        codec.decode(wire(data))


@pytest.mark.parametrize("cursor", ["", "garbage!", wire({"a": 1}), base64.urlsafe_b64encode(b"[1,2]").decode(), "%%%"])
def test_what_is_no_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        cursors.MEMBERS.decode(cursor)
