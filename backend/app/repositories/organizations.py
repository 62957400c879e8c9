"""Organizations: base rows plus profile, status, membership, admin and owner facts.

Writes append one fact each. Reads compose the facts into state objects — now, or as of an
instant — through the helpers of `repositories/facts.py`; every read here is one statement.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import Prepared, fetch_rows
from app.domain.organizations import MemberFacts, Membership, OrgStanding, OrgState, role_of
from app.domain.vocabulary import ArchiveKind, GrantKind, LifecycleKind, MemberKind, Role
from app.models import Organization, OrganizationAdmin, OrganizationMember, OrganizationOwner, OrganizationProfile
from app.repositories.facts import append, latest_column, latest_kind, latest_per_key_subquery, page_params
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
        status=ORGANIZATION_LIFECYCLE.flags_from(row).status,
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
        lifecycle=ORGANIZATION_LIFECYCLE.flags_from(row),
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
    f"ORDER BY a.id DESC LIMIT 1) IS DISTINCT FROM '{ArchiveKind.ARCHIVED}' "
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
