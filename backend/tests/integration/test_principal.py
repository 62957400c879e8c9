"""The per-request principal check composes session and user state in one query."""

from __future__ import annotations

import uuid

import pytest
from factories import create_user, issue_token
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.config import Settings
from app.core.errors import NotAuthenticated
from app.domain.vocabulary import Role
from app.repositories import sessions as sessions_repo
from app.repositories import users as users_repo
from app.services.organizations import create_organization
from app.services.sessions import authenticate


async def test_live_session_of_active_user_authenticates(
    db: AsyncSession, settings: Settings, clock: FrozenClock
) -> None:
    user_id = await create_user(db, now=clock.now())
    token = await issue_token(db, settings, user_id=user_id, now=clock.now())
    principal = await authenticate(db, settings, token=token, now=clock.now())
    assert principal.user_id == user_id
    assert principal.user_status == "active"
    assert principal.org is None


async def test_suspension_refuses_a_live_token(db: AsyncSession, settings: Settings, clock: FrozenClock) -> None:
    user_id = await create_user(db, now=clock.now())
    token = await issue_token(db, settings, user_id=user_id, now=clock.now())
    await users_repo.add_status_event(
        db, user_id=user_id, kind="suspended", reason="abuse", at=clock.now(), actor_id=None
    )
    with pytest.raises(NotAuthenticated):
        await authenticate(db, settings, token=token, now=clock.now())


async def test_revoked_session_and_idle_timeout(db: AsyncSession, settings: Settings, clock: FrozenClock) -> None:
    user_id = await create_user(db, now=clock.now())
    token = await issue_token(db, settings, user_id=user_id, now=clock.now())
    principal = await authenticate(db, settings, token=token, now=clock.now())
    await sessions_repo.revoke_session(
        db, session_id=principal.session_id, reason="logout", at=clock.now(), actor_id=user_id
    )
    with pytest.raises(NotAuthenticated):
        await authenticate(db, settings, token=token, now=clock.now())


async def test_org_standing_is_composed_in_the_same_query(
    db: AsyncSession, settings: Settings, clock: FrozenClock
) -> None:
    owner = await create_user(db, now=clock.now())
    org_id = await create_organization(db, creator_id=owner, name="Acme", now=clock.now())
    token = await issue_token(db, settings, user_id=owner, now=clock.now())
    principal = await authenticate(db, settings, token=token, now=clock.now(), organization_id=org_id)
    assert principal.org is not None
    assert principal.org.exists and principal.org.role == Role.OWNER and principal.org.owner_id == owner
    other = await authenticate(db, settings, token=token, now=clock.now(), organization_id=uuid.uuid4())
    assert other.org is not None and not other.org.exists and other.org.role is None


async def test_memberships_and_can_enter(db: AsyncSession, settings: Settings, clock: FrozenClock) -> None:
    from app.repositories.organizations import memberships_of_user
    from app.services.organizations import can_enter

    owner = await create_user(db, now=clock.now())
    stranger = await create_user(db, now=clock.now())
    first = await create_organization(db, creator_id=owner, name="First", now=clock.now())
    second = await create_organization(db, creator_id=owner, name="Second", now=clock.now())
    mine = await memberships_of_user(db, owner)
    assert sorted(m.organization.id for m in mine) == sorted([first, second])
    assert {m.role for m in mine} == {"owner"}
    assert {m.organization.name for m in mine} == {"First", "Second"}
    assert await can_enter(db, user_id=owner, organization_id=first)
    assert not await can_enter(db, user_id=stranger, organization_id=first)
