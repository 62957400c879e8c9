"""Organizations: base rows plus profile, status, membership, admin and owner facts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Organization,
    OrganizationActiveStatus,
    OrganizationAdmin,
    OrganizationArchive,
    OrganizationMember,
    OrganizationOwner,
    OrganizationProfile,
    OrganizationSuspension,
)
from app.repositories.facts import append, latest_per_key_page
from app.repositories.users import latest_column, latest_kind


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
    found = await db.execute(
        select(Organization.id).where(Organization.id == organization_id).with_for_update()
    )
    return found.scalar_one_or_none() is not None


async def add_profile(
    db: AsyncSession,
    *,
    organization_id: uuid.UUID,
    name: str,
    description: str | None,
    at: datetime,
    actor_id: uuid.UUID | None,
) -> None:
    await append(
        db, OrganizationProfile, occurred_at=at, actor_id=actor_id,
        organization_id=organization_id, name=name, description=description,
    )


async def add_member_event(
    db: AsyncSession, *, organization_id: uuid.UUID, user_id: uuid.UUID, kind: str, at: datetime, actor_id: uuid.UUID | None
) -> None:
    await append(
        db, OrganizationMember, occurred_at=at, actor_id=actor_id,
        organization_id=organization_id, user_id=user_id, kind=kind,
    )


async def set_owner(
    db: AsyncSession, *, organization_id: uuid.UUID, user_id: uuid.UUID, at: datetime, actor_id: uuid.UUID | None
) -> None:
    await append(
        db, OrganizationOwner, occurred_at=at, actor_id=actor_id,
        organization_id=organization_id, user_id=user_id,
    )


ACTIVE, INACTIVE, SUSPENDED, ARCHIVED = "active", "inactive", "suspended", "archived"
OWNER, ADMIN, MEMBER = "owner", "admin", "member"


def organization_status(active_kind: str | None, suspension_kind: str | None, archive_kind: str | None) -> str:
    """Most severe first: archived > suspended > inactive > active (absent facts: active)."""
    if archive_kind == "archived":
        return ARCHIVED
    if suspension_kind == "suspended":
        return SUSPENDED
    if active_kind == "deactivated":
        return INACTIVE
    return ACTIVE


def role_of(user_id: uuid.UUID, *, is_member: bool, is_admin: bool, owner_id: uuid.UUID | None) -> str | None:
    """owner > admin (a member with a grant) > member > None."""
    if not is_member:
        return None
    if owner_id == user_id:
        return OWNER
    return ADMIN if is_admin else MEMBER


@dataclass(frozen=True, slots=True)
class OrgState:
    id: uuid.UUID
    created_at: datetime
    created_by: uuid.UUID | None
    name: str
    description: str | None
    status: str
    owner_id: uuid.UUID | None


def _state_columns(org_id: Any) -> list[Any]:
    key = {"organization_id": org_id}
    return [
        latest_column(OrganizationProfile, "name", key).label("name"),
        latest_column(OrganizationProfile, "description", key).label("description"),
        latest_column(OrganizationOwner, "user_id", key).label("owner_id"),
        latest_kind(OrganizationActiveStatus, key).label("active_kind"),
        latest_kind(OrganizationSuspension, key).label("suspension_kind"),
        latest_kind(OrganizationArchive, key).label("archive_kind"),
    ]


def _org_state(row: Any) -> OrgState:
    return OrgState(
        id=row.id,
        created_at=row.created_at,
        created_by=row.created_by,
        name=row.name,
        description=row.description,
        status=organization_status(row.active_kind, row.suspension_kind, row.archive_kind),
        owner_id=row.owner_id,
    )


async def get_org_state(db: AsyncSession, organization_id: uuid.UUID) -> OrgState | None:
    """The organization's current state, in one query."""
    stmt = select(
        Organization.id, Organization.created_at, Organization.created_by, *_state_columns(organization_id)
    ).where(Organization.id == organization_id)
    row = (await db.execute(stmt)).one_or_none()
    return _org_state(row) if row else None


@dataclass(frozen=True, slots=True)
class Membership:
    """One organization the user currently belongs to, with the user's role there."""

    organization: OrgState
    role: str
    added_at: datetime


async def memberships_of_user(
    db: AsyncSession, user_id: uuid.UUID, *, after: uuid.UUID | None = None, limit: int = 50
) -> list[Membership]:
    """The user's current memberships, ascending by organization id, one page (keyset `after`)."""
    page = await latest_per_key_page(
        db, OrganizationMember, {"user_id": user_id}, "organization_id", state="added", after=after, limit=limit
    )
    if not page:
        return []
    ids = [row.key for row in page]
    added = {row.key: row.occurred_at for row in page}
    org_id = Organization.id
    stmt = (
        select(
            Organization.id,
            Organization.created_at,
            Organization.created_by,
            *_state_columns(org_id),
            latest_kind(OrganizationAdmin, {"organization_id": org_id, "user_id": user_id}).label("admin_kind"),
        )
        .where(Organization.id.in_(ids))
        .order_by(Organization.id)
    )
    result = []
    for row in (await db.execute(stmt)).all():
        state = _org_state(row)
        role = role_of(user_id, is_member=True, is_admin=row.admin_kind == "granted", owner_id=state.owner_id)
        result.append(Membership(organization=state, role=role or MEMBER, added_at=added[row.id]))
    return result
