"""Organization rules: creation, membership, admins, ownership, lifecycle."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import organizations as orgs


async def create_organization(
    db: AsyncSession, *, creator_id: uuid.UUID, name: str, description: str | None = None, now: datetime
) -> uuid.UUID:
    """A new organization whose creator is its owner and member (one transaction)."""
    organization_id = uuid.uuid4()
    await orgs.create_organization(db, organization_id=organization_id, created_by=creator_id, at=now)
    await orgs.lock_organization(db, organization_id)
    await orgs.add_profile(
        db, organization_id=organization_id, name=name, description=description, at=now, actor_id=creator_id
    )
    await orgs.add_member_event(
        db, organization_id=organization_id, user_id=creator_id, kind="added", at=now, actor_id=creator_id
    )
    await orgs.set_owner(db, organization_id=organization_id, user_id=creator_id, at=now, actor_id=creator_id)
    return organization_id


async def can_enter(db: AsyncSession, *, user_id: uuid.UUID, organization_id: uuid.UUID) -> bool:
    """May the user make this organization the active one of a session (switch, login, refresh)?

    Yes while the user is a current member and the organization is neither suspended nor
    archived (an inactive organization is read-only, but still enterable).
    """
    page = await orgs.memberships_of_user(db, user_id, after=_just_before(organization_id), limit=1)
    return bool(page) and page[0].organization.id == organization_id and page[0].organization.status in (
        orgs.ACTIVE,
        orgs.INACTIVE,
    )


def _just_before(value: uuid.UUID) -> uuid.UUID | None:
    return uuid.UUID(int=value.int - 1) if value.int else None
