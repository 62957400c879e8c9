"""Organizations: base rows plus profile, status, membership, admin and owner facts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Organization,
    OrganizationMember,
    OrganizationOwner,
    OrganizationProfile,
)
from app.repositories.facts import append


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
