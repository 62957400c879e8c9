"""The organization's history feed: eleven fact tables merged newest first, keyset-paged, one
statement (each branch reads one page of its own index); public types from `domain.events`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, String, text
from sqlalchemy import column as sql_column
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.events import EVENT_RANKS, EVENT_TYPES, PROFILE_CREATED, PROFILE_UPDATED, EventSource, EventType
from app.domain.organizations import EventPosition, OrgEvent
from app.domain.vocabulary import InvitationResponseKind


def _public_type(source: EventSource, kind_sql: str) -> str:
    """SQL mapping a branch's stored kind to its public type, generated from `EVENT_TYPES` (the one
    table of names): a CASE over the kinds of this source, or the one type of a kind-less source."""
    pairs = [(kind, public) for (src, kind), public in EVENT_TYPES.items() if src == source]
    if len(pairs) == 1:
        return f"'{pairs[0][1]}'"
    whens = " ".join(f"WHEN '{kind}' THEN '{public}'" for kind, public in pairs)
    return f"CASE {kind_sql} {whens} END"


# The organization's first profile row is its creation.
_PROFILE_TYPE = (
    "CASE WHEN x.id = (SELECT min(p0.id) FROM organization_profile p0 WHERE p0.organization_id = :org) "
    f"THEN '{EVENT_TYPES[EventSource.PROFILE, PROFILE_CREATED]}' "
    f"ELSE '{EVENT_TYPES[EventSource.PROFILE, PROFILE_UPDATED]}' END"
)

_NONE = "'{}'::jsonb"  # no details


@dataclass(frozen=True, slots=True)
class _Branch:
    """One table's facts as events: its rows `x`, their public type, subject and details, and —
    where the table names them differently — the instant, sequence, organization and actors."""

    source: EventSource
    table: str  # its rows are `x`
    type_: str
    subject: str
    details: str
    at: str = "x.occurred_at"
    seq: str = "x.id"
    organization: str = "x.organization_id"
    actor: str = "x.actor_id"
    actor_key: str = "x.actor_api_key_id"
    join: str = ""


def _key_details(alias: str, *more: str) -> str:
    """An API key's public fields (never its hash) from the `api_keys` row `alias`, and `more` pairs."""
    fields = [f"'api_key_id', {alias}.id", f"'name', {alias}.name", f"'prefix', {alias}.prefix", *more]
    return f"jsonb_build_object({', '.join(fields)})"


# Within one instant, higher ranks (`EVENT_RANKS`) come first, so a creation reads newest first
# as owner → admin → member → created.
_EVENT_SOURCES: tuple[_Branch, ...] = (
    _Branch(
        EventSource.PROFILE,
        "organization_profile",
        _PROFILE_TYPE,
        "CAST(:org AS uuid)",
        "jsonb_build_object('name', x.name, 'description', x.description)",
    ),
    _Branch(EventSource.MEMBER, "organization_members", _public_type(EventSource.MEMBER, "x.kind"), "x.user_id", _NONE),
    _Branch(EventSource.ADMIN, "organization_admins", _public_type(EventSource.ADMIN, "x.kind"), "x.user_id", _NONE),
    _Branch(
        EventSource.OWNER,
        "organization_owners",
        _public_type(EventSource.OWNER, ""),
        "x.user_id",
        "jsonb_build_object('previous_owner_id', (SELECT o0.user_id FROM organization_owners o0 "
        "WHERE o0.organization_id = :org AND o0.id < x.id ORDER BY o0.id DESC LIMIT 1))",
    ),
    _Branch(
        EventSource.STATUS,
        "organization_active_status",
        _public_type(EventSource.STATUS, "x.kind"),
        "CAST(:org AS uuid)",
        _NONE,
    ),
    _Branch(
        EventSource.SUSPENSION,
        "organization_suspensions",
        _public_type(EventSource.SUSPENSION, "x.kind"),
        "CAST(:org AS uuid)",
        "jsonb_build_object('reason', x.reason)",
    ),
    _Branch(
        EventSource.ARCHIVE,
        "organization_archives",
        _public_type(EventSource.ARCHIVE, "x.kind"),
        "CAST(:org AS uuid)",
        _NONE,
    ),
    _Branch(
        EventSource.INVITATION,
        "invitations",
        _public_type(EventSource.INVITATION, ""),
        "CAST(NULL AS uuid)",
        "jsonb_build_object('invitation_id', x.invitation_id, 'email', x.email, 'role', x.role)",
    ),
    _Branch(
        EventSource.INVITATION_RESPONSE,
        "invitation_responses",
        _public_type(EventSource.INVITATION_RESPONSE, "x.kind"),
        f"CASE WHEN x.kind = '{InvitationResponseKind.ACCEPTED}' THEN x.actor_id END",
        "(SELECT jsonb_build_object('invitation_id', i.invitation_id, 'email', i.email, 'role', i.role) "
        "FROM invitations i WHERE i.invitation_id = x.invitation_id)",
    ),
    _Branch(
        EventSource.API_KEY,
        "api_keys",
        _public_type(EventSource.API_KEY, ""),
        "CAST(NULL AS uuid)",
        _key_details("x", "'permissions', to_jsonb(x.permissions)", "'expires_at', x.expires_at"),
        at="x.created_at",
        seq="x.seq",
        actor="x.created_by",
        actor_key="CAST(NULL AS uuid)",
    ),
    _Branch(
        EventSource.API_KEY_REVOCATION,
        "api_key_revocations",
        _public_type(EventSource.API_KEY_REVOCATION, ""),
        "CAST(NULL AS uuid)",
        _key_details("k"),
        organization="k.organization_id",
        # through the organization's keys (a handful): each key's one revocation by its unique index
        join="JOIN api_keys k ON k.id = x.api_key_id",
    ),
)
_MAX_SEQ = 2**63 - 1
_END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)


def _events_sql() -> str:
    # Each branch reads at most one page from its (organization_id, occurred_at DESC, id DESC)
    # index, starting strictly below the cursor; the outer sort merges at most one page per branch.
    branches = [
        f"""(SELECT '{b.source}' AS source, {EVENT_RANKS[b.source]} AS rank, {b.seq} AS seq, {b.at} AS occurred_at,
        {b.actor} AS actor_id, {b.actor_key} AS actor_api_key_id, {b.type_} AS type, {b.subject} AS subject_id,
        {b.details} AS details
    FROM {b.table} x {b.join}
    WHERE {b.organization} = :org
      AND ({b.at}, {b.seq}) < (CAST(:before AS timestamptz), CAST(:bound_{b.source} AS bigint))
    ORDER BY {b.at} DESC, {b.seq} DESC
    LIMIT :page_limit)"""
        for b in _EVENT_SOURCES
    ]
    union = "\n    UNION ALL\n    ".join(branches)
    return f"""SELECT e.source, e.rank, e.seq, e.occurred_at, e.actor_id, e.actor_api_key_id, e.type, e.subject_id,
    e.details
FROM (
    {union}
) e
ORDER BY e.occurred_at DESC, e.rank DESC, e.seq DESC
LIMIT :page_limit"""


_EVENTS = text(_events_sql()).columns(
    sql_column("source", String),
    sql_column("rank", BigInteger),
    sql_column("seq", BigInteger),
    sql_column("occurred_at", DateTime(timezone=True)),
    sql_column("actor_id", UUID(as_uuid=True)),
    sql_column("actor_api_key_id", UUID(as_uuid=True)),
    sql_column("type", String),
    sql_column("subject_id", UUID(as_uuid=True)),
    sql_column("details", JSONB),
)


async def events_page(
    db: AsyncSession, organization_id: uuid.UUID, *, before: EventPosition | None = None, limit: int = 50
) -> list[OrgEvent]:
    """The organization's history newest first, strictly after `before` in that order: one statement."""
    params: dict[str, Any] = {"org": organization_id, "page_limit": limit}
    if before is None:
        params["before"] = _END_OF_TIME
        params |= {f"bound_{source}": _MAX_SEQ for source in EVENT_RANKS}
    else:
        params["before"] = before.occurred_at
        for source, rank in EVENT_RANKS.items():
            # Same instant: lower ranks come after the cursor's (all of them), the cursor's own
            # table continues below its id, higher ranks were already served (none).
            if rank < before.rank:
                params[f"bound_{source}"] = _MAX_SEQ
            elif rank == before.rank:
                params[f"bound_{source}"] = before.seq
            else:
                params[f"bound_{source}"] = 0
    rows = (await db.execute(_EVENTS, params)).all()
    return [
        OrgEvent(
            source=row.source,
            rank=row.rank,
            seq=row.seq,
            type=EventType(row.type),
            actor_id=row.actor_id,
            subject_id=row.subject_id,
            occurred_at=row.occurred_at,
            details=row.details or {},
            actor_api_key_id=row.actor_api_key_id,
        )
        for row in rows
    ]
