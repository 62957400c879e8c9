"""Organizations: base rows plus profile, status, membership, admin and owner facts.

Writes append one fact each. Reads compose the facts into state objects — now, or as of an
instant — through the helpers of `repositories/facts.py`; every read here is one statement.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, DateTime, Select, String, bindparam, select, text
from sqlalchemy import column as sql_column
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import Prepared, fetch_rows
from app.domain.events import EVENT_RANKS, EVENT_TYPES, PROFILE_CREATED, PROFILE_UPDATED, EventSource, EventType
from app.domain.organizations import (
    AdminEntry,
    EventPosition,
    MemberEntry,
    MemberFacts,
    Membership,
    OrgEvent,
    OrgStanding,
    OrgState,
    OwnerEntry,
    role_of,
)
from app.domain.vocabulary import GrantKind, InvitationResponseKind, LifecycleKind, MemberKind, Role
from app.models import (
    Organization,
    OrganizationAdmin,
    OrganizationMember,
    OrganizationOwner,
    OrganizationProfile,
    UserProfile,
)
from app.repositories.facts import append, latest_column, latest_kind, latest_per_key_subquery, latest_stmt, page_params
from app.repositories.lifecycle import ORGANIZATION_LIFECYCLE

# ------------------------------------------------------------------------------------------ writes


async def create_organization(
    db: AsyncSession, *, organization_id: uuid.UUID, created_by: uuid.UUID | None, at: datetime
) -> None:
    db.add(Organization(id=organization_id, created_by=created_by, created_at=at))
    await db.flush()


async def lock_organization(db: AsyncSession, organization_id: uuid.UUID) -> bool:
    """Lock the organization's base row until the transaction ends; False when it does not exist.

    Every mutation of one organization's lifecycle takes this lock first, so concurrent
    requests are serialized per organization and cannot break an invariant.
    """
    found = await db.execute(select(Organization.id).where(Organization.id == organization_id).with_for_update())
    return found.scalar_one_or_none() is not None


async def add_profile(
    db: AsyncSession,
    *,
    organization_id: uuid.UUID,
    name: str,
    description: str | None,
    at: datetime,
    actor_id: uuid.UUID | None,
    actor_api_key_id: uuid.UUID | None = None,
) -> None:
    await append(
        db,
        OrganizationProfile,
        occurred_at=at,
        actor_id=actor_id,
        actor_api_key_id=actor_api_key_id,
        organization_id=organization_id,
        name=name,
        description=description,
    )


async def add_member_event(
    db: AsyncSession,
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    kind: MemberKind,
    at: datetime,
    actor_id: uuid.UUID | None,
    actor_api_key_id: uuid.UUID | None = None,
) -> None:
    await append(
        db,
        OrganizationMember,
        occurred_at=at,
        actor_id=actor_id,
        actor_api_key_id=actor_api_key_id,
        organization_id=organization_id,
        user_id=user_id,
        kind=kind,
    )


async def add_admin_event(
    db: AsyncSession,
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    kind: GrantKind,
    at: datetime,
    actor_id: uuid.UUID | None,
    actor_api_key_id: uuid.UUID | None = None,
) -> None:
    """`granted` or `revoked`."""
    await append(
        db,
        OrganizationAdmin,
        occurred_at=at,
        actor_id=actor_id,
        actor_api_key_id=actor_api_key_id,
        organization_id=organization_id,
        user_id=user_id,
        kind=kind,
    )


async def set_owner(
    db: AsyncSession,
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    at: datetime,
    actor_id: uuid.UUID | None,
    actor_api_key_id: uuid.UUID | None = None,
) -> None:
    await append(
        db,
        OrganizationOwner,
        occurred_at=at,
        actor_id=actor_id,
        actor_api_key_id=actor_api_key_id,
        organization_id=organization_id,
        user_id=user_id,
    )


async def add_status_event(
    db: AsyncSession,
    *,
    organization_id: uuid.UUID,
    kind: LifecycleKind,
    at: datetime,
    actor_id: uuid.UUID | None,
    reason: str | None = None,
    actor_api_key_id: uuid.UUID | None = None,
) -> None:
    """Append one status fact: activated/deactivated, suspended/lifted, archived/restored."""
    await ORGANIZATION_LIFECYCLE.append(
        db,
        subject_id=organization_id,
        kind=kind,
        at=at,
        actor_id=actor_id,
        actor_api_key_id=actor_api_key_id,
        reason=reason,
    )


# ---------------------------------------------------------------------------------- composition


def _state_columns(org_id: Any) -> list[Any]:
    key = {"organization_id": org_id}
    return [
        latest_column(OrganizationProfile, "name", key).label("name"),
        latest_column(OrganizationProfile, "description", key).label("description"),
        latest_column(OrganizationOwner, "user_id", key).label("owner_id"),
        *ORGANIZATION_LIFECYCLE.columns(org_id),
    ]


def _org_state(row: Any) -> OrgState:
    return OrgState(
        id=row.id,
        created_at=row.created_at,
        created_by=row.created_by,
        name=row.name,
        description=row.description,
        status=ORGANIZATION_LIFECYCLE.status_from(row),
        owner_id=row.owner_id,
    )


@cache
def _org_state_statement() -> Select[Any]:
    org_id = bindparam("organization_id", type_=UUID(as_uuid=True))
    return select(Organization.id, Organization.created_at, Organization.created_by, *_state_columns(org_id)).where(
        Organization.id == org_id
    )


@cache
def _org_state_prepared() -> Prepared:
    return Prepared(_org_state_statement())


async def get_org_state(db: AsyncSession, organization_id: uuid.UUID) -> OrgState | None:
    """The organization's current state, in one query (prepared, on the driver connection)."""
    rows = await fetch_rows(db, _org_state_prepared(), {"organization_id": organization_id})
    return _org_state(rows[0]) if rows else None


async def get_standing(db: AsyncSession, organization_id: uuid.UUID, user_ids: list[uuid.UUID]) -> OrgStanding | None:
    """The organization's state and the membership/admin facts of `user_ids`: one query."""
    unique = list(dict.fromkeys(user_ids))
    per_user: list[Any] = []
    for i, user_id in enumerate(unique):
        key = {"organization_id": organization_id, "user_id": user_id}
        per_user += [
            latest_kind(OrganizationMember, key).label(f"member_{i}"),
            latest_kind(OrganizationAdmin, key).label(f"admin_{i}"),
        ]
    stmt = select(
        Organization.id, Organization.created_at, Organization.created_by, *_state_columns(organization_id), *per_user
    ).where(Organization.id == organization_id)
    row = (await db.execute(stmt)).one_or_none()
    if row is None:
        return None
    mapping = row._mapping
    return OrgStanding(
        state=_org_state(row),
        active_kind=row.active_kind,
        suspension_kind=row.suspension_kind,
        archive_kind=row.archive_kind,
        users={
            user_id: MemberFacts(
                is_member=mapping[f"member_{i}"] == MemberKind.ADDED,
                is_admin=mapping[f"admin_{i}"] == GrantKind.GRANTED,
            )
            for i, user_id in enumerate(unique)
        },
    )


# --------------------------------------------------------------------------------- my orgs


# An archived organization is invisible to everyone but its owner (SPEC §5).
_VISIBLE_TO_MEMBER = (
    "(SELECT a.kind FROM organization_archives a WHERE a.organization_id = w.key "
    "ORDER BY a.id DESC LIMIT 1) IS DISTINCT FROM 'archived' "
    "OR (SELECT o.user_id FROM organization_owners o WHERE o.organization_id = w.key "
    "ORDER BY o.id DESC LIMIT 1) = :user_id"
)


@cache
def _memberships_statement(*, include_archived: bool) -> Select[Any]:
    user_id = bindparam("user_id", type_=UUID(as_uuid=True))
    page = latest_per_key_subquery(
        OrganizationMember, ["user_id"], "organization_id", where=None if include_archived else _VISIBLE_TO_MEMBER
    )
    org_id = page.c.key
    base = select(Organization).where(Organization.id == org_id)
    # Point lookups per row, not a join: the planner may not pick a join order that stays flat.
    return select(
        org_id.label("id"),
        base.with_only_columns(Organization.created_at).scalar_subquery().label("created_at"),
        base.with_only_columns(Organization.created_by).scalar_subquery().label("created_by"),
        *_state_columns(org_id),
        latest_kind(OrganizationAdmin, {"organization_id": org_id, "user_id": user_id}).label("admin_kind"),
        page.c.occurred_at.label("added_at"),
    ).order_by(org_id)


@cache
def _memberships_prepared(*, include_archived: bool) -> Prepared:
    return Prepared(_memberships_statement(include_archived=include_archived))


async def memberships_of_user(
    db: AsyncSession,
    user_id: uuid.UUID,
    *,
    after: uuid.UUID | None = None,
    limit: int = 50,
    include_archived: bool = False,
) -> list[Membership]:
    """The user's current memberships, ascending by organization id, one page (keyset `after`).

    One statement: the walk over the user's memberships fused with each organization's state
    and the user's admin grant there. Archived organizations the user does not own are left out
    (before the page limit) unless `include_archived`.
    """
    stmt = _memberships_prepared(include_archived=include_archived)
    params = page_params({"user_id": user_id}, state=MemberKind.ADDED, after=after, limit=limit)
    result = []
    for row in await fetch_rows(db, stmt, params):
        state = _org_state(row)
        role = role_of(user_id, is_member=True, is_admin=row.admin_kind == GrantKind.GRANTED, owner_id=state.owner_id)
        result.append(Membership(organization=state, role=role or Role.MEMBER, added_at=row.added_at))
    return result


# ------------------------------------------------------------------ members, admins, owner


def _display_name(user_id: Any) -> Any:
    # The person's current name, also for past state: names are not organization facts.
    return latest_column(UserProfile, "display_name", {"user_id": user_id}).label("display_name")


def _org_and_instant(as_of: bool) -> tuple[Any, Any]:
    org_id = bindparam("organization_id", type_=UUID(as_uuid=True))
    when = bindparam("as_of", type_=DateTime(timezone=True)) if as_of else None
    return org_id, when


@cache
def _members_statement(*, as_of: bool) -> Select[Any]:
    org_id, when = _org_and_instant(as_of)
    org_key = {"organization_id": org_id}
    page = latest_per_key_subquery(OrganizationMember, ["organization_id"], "user_id", as_of=as_of)
    user_id = page.c.key
    return select(
        user_id.label("user_id"),
        page.c.occurred_at.label("added_at"),
        _display_name(user_id),
        latest_kind(OrganizationAdmin, {**org_key, "user_id": user_id}, when).label("admin_kind"),
        latest_column(OrganizationOwner, "user_id", org_key, when).label("owner_id"),
    ).order_by(user_id)


@cache
def _members_prepared(*, as_of: bool) -> Prepared:
    return Prepared(_members_statement(as_of=as_of))


async def members_page(
    db: AsyncSession,
    organization_id: uuid.UUID,
    *,
    after: uuid.UUID | None = None,
    limit: int = 50,
    as_of: datetime | None = None,
) -> list[MemberEntry]:
    """Members (now, or as of `as_of`) ascending by user id, with name and role: one statement.

    The loose-index-scan walk of `latest_per_key_subquery`, each row fused with its user's
    display name and admin grant (as of the same instant) and the organization's owner then.
    """
    stmt = _members_prepared(as_of=as_of is not None)
    params = page_params(
        {"organization_id": organization_id}, state=MemberKind.ADDED, after=after, limit=limit, as_of=as_of
    )
    return [
        MemberEntry(
            user_id=row.user_id,
            display_name=row.display_name,
            role=role_of(
                row.user_id, is_member=True, is_admin=row.admin_kind == GrantKind.GRANTED, owner_id=row.owner_id
            )
            or Role.MEMBER,
            added_at=row.added_at,
        )
        for row in await fetch_rows(db, stmt, params)
    ]


@cache
def _admins_statement(*, as_of: bool) -> Select[Any]:
    page = latest_per_key_subquery(OrganizationAdmin, ["organization_id"], "user_id", as_of=as_of)
    user_id = page.c.key
    return select(user_id.label("user_id"), page.c.occurred_at.label("granted_at"), _display_name(user_id)).order_by(
        user_id
    )


async def admins_page(
    db: AsyncSession,
    organization_id: uuid.UUID,
    *,
    after: uuid.UUID | None = None,
    limit: int = 50,
    as_of: datetime | None = None,
) -> list[AdminEntry]:
    """Users holding an admin grant (now, or as of `as_of`) ascending by user id: one statement."""
    stmt = _admins_statement(as_of=as_of is not None)
    params = page_params(
        {"organization_id": organization_id}, state=GrantKind.GRANTED, after=after, limit=limit, as_of=as_of
    )
    return [
        AdminEntry(user_id=row.user_id, display_name=row.display_name, granted_at=row.granted_at)
        for row in (await db.execute(stmt, params)).all()
    ]


@cache
def _owner_statement(*, as_of: bool) -> Select[Any]:
    org_id, when = _org_and_instant(as_of)
    current = (
        latest_stmt(OrganizationOwner, {"organization_id": org_id}, when)
        .with_only_columns(OrganizationOwner.user_id, OrganizationOwner.occurred_at)
        .subquery("current_owner")
    )
    return select(current.c.user_id, current.c.occurred_at, _display_name(current.c.user_id))


async def owner_at(db: AsyncSession, organization_id: uuid.UUID, *, as_of: datetime | None = None) -> OwnerEntry | None:
    """The owner (now, or as of `as_of`) and since when: one statement; None before the first."""
    params: dict[str, Any] = {"organization_id": organization_id}
    if as_of is not None:
        params["as_of"] = as_of
    row = (await db.execute(_owner_statement(as_of=as_of is not None), params)).one_or_none()
    return OwnerEntry(user_id=row.user_id, display_name=row.display_name, since=row.occurred_at) if row else None


# ----------------------------------------------------------------------------------- events


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

_NONE = "'{}'::jsonb"

# (source, table, public type, subject, details). Within one instant, higher ranks
# (`EVENT_RANKS`) come first, so a creation reads newest first as owner → admin → member → created.
_EVENT_SOURCES: tuple[tuple[EventSource, str, str, str, str], ...] = (
    (
        EventSource.PROFILE,
        "organization_profile",
        _PROFILE_TYPE,
        "CAST(:org AS uuid)",
        "jsonb_build_object('name', x.name, 'description', x.description)",
    ),
    (
        EventSource.MEMBER,
        "organization_members",
        _public_type(EventSource.MEMBER, "x.kind"),
        "x.user_id",
        "'{}'::jsonb",
    ),
    (EventSource.ADMIN, "organization_admins", _public_type(EventSource.ADMIN, "x.kind"), "x.user_id", "'{}'::jsonb"),
    (
        EventSource.OWNER,
        "organization_owners",
        _public_type(EventSource.OWNER, ""),
        "x.user_id",
        "jsonb_build_object('previous_owner_id', (SELECT o0.user_id FROM organization_owners o0 "
        "WHERE o0.organization_id = :org AND o0.id < x.id ORDER BY o0.id DESC LIMIT 1))",
    ),
    (
        EventSource.STATUS,
        "organization_active_status",
        _public_type(EventSource.STATUS, "x.kind"),
        "CAST(:org AS uuid)",
        "'{}'::jsonb",
    ),
    (
        EventSource.SUSPENSION,
        "organization_suspensions",
        _public_type(EventSource.SUSPENSION, "x.kind"),
        "CAST(:org AS uuid)",
        "jsonb_build_object('reason', x.reason)",
    ),
    (
        EventSource.ARCHIVE,
        "organization_archives",
        _public_type(EventSource.ARCHIVE, "x.kind"),
        "CAST(:org AS uuid)",
        "'{}'::jsonb",
    ),
    (
        EventSource.INVITATION,
        "invitations",
        _public_type(EventSource.INVITATION, ""),
        "CAST(NULL AS uuid)",
        "jsonb_build_object('invitation_id', x.invitation_id, 'email', x.email, 'role', x.role)",
    ),
    (
        EventSource.INVITATION_RESPONSE,
        "invitation_responses",
        _public_type(EventSource.INVITATION_RESPONSE, "x.kind"),
        f"CASE WHEN x.kind = '{InvitationResponseKind.ACCEPTED}' THEN x.actor_id END",
        "(SELECT jsonb_build_object('invitation_id', i.invitation_id, 'email', i.email, 'role', i.role) "
        "FROM invitations i WHERE i.invitation_id = x.invitation_id)",
    ),
)
_MAX_SEQ = 2**63 - 1
_END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)


def _events_sql() -> str:
    # Each branch reads at most one page from its (organization_id, occurred_at DESC, id DESC)
    # index, starting strictly below the cursor; the outer sort merges at most one page per branch.
    branches = [
        f"""(SELECT '{source}' AS source, {EVENT_RANKS[source]} AS rank, x.id AS seq, x.occurred_at, x.actor_id,
        x.actor_api_key_id, {type_} AS type, {subject} AS subject_id, {details} AS details
    FROM {table} x
    WHERE x.organization_id = :org
      AND (x.occurred_at, x.id) < (CAST(:before AS timestamptz), CAST(:bound_{source} AS bigint))
    ORDER BY x.occurred_at DESC, x.id DESC
    LIMIT :page_limit)"""
        for source, table, type_, subject, details in _EVENT_SOURCES
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
