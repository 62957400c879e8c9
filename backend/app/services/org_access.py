"""The caller's standing in an organization, as every org-scoped service function receives it.

The guard (`api/deps.py`) builds an `OrgContext` from the principal query's organization columns;
jobs and tests build one with `load_context`. A mutation calls `lock` first: it locks the
organization row and re-reads the caller's standing (and the standing of the users it is about)
inside the lock, so two concurrent requests cannot both act on a state that one of them changes.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import OrganizationNotFound, UserNotActive, UserNotFound
from app.domain.organizations import OrgStanding
from app.domain.sessions import OrgAccess, Principal
from app.domain.users import UserState
from app.repositories import organizations as orgs
from app.repositories import users as users_repo
from app.services import policies
from app.services.policies import Action, OrgContext


def _visible_context(access: OrgAccess, *, user_id: uuid.UUID, is_platform_admin: bool, now: datetime) -> OrgContext:
    """The services' context from the caller's standing; 404 when the caller may not see it."""
    if not access.exists:
        raise OrganizationNotFound()
    return policies.visible(
        OrgContext(
            organization_id=access.organization_id,
            user_id=user_id,
            role=access.role,
            is_platform_admin=is_platform_admin,
            status=access.status,
            owner_id=access.owner_id,
            now=now,
        )
    )


def org_context(principal: Principal, *, now: datetime) -> OrgContext:
    """The guard's context from the principal query's org columns; 404 when not visible."""
    if principal.org is None:
        raise OrganizationNotFound()
    return _visible_context(
        principal.org, user_id=principal.user_id, is_platform_admin=principal.is_platform_admin, now=now
    )


async def load_context(
    db: AsyncSession, *, organization_id: uuid.UUID, user_id: uuid.UUID, is_platform_admin: bool, now: datetime
) -> OrgContext:
    """An `OrgContext` without a token (jobs, tests): the same composition as the guard's."""
    standing = await orgs.get_standing(db, organization_id, [user_id])
    if standing is None:
        raise OrganizationNotFound()
    state = standing.state
    access = OrgAccess(state.id, exists=True, role=standing.role(user_id), owner_id=state.owner_id, status=state.status)
    return _visible_context(access, user_id=user_id, is_platform_admin=is_platform_admin, now=now)


async def lock(db: AsyncSession, ctx: OrgContext, *user_ids: uuid.UUID) -> tuple[OrgContext, OrgStanding]:
    """Lock the organization, then re-read the caller's standing (and `user_ids`') inside the lock.

    A key's standing is its organization's status (its permissions and liveness were read by the
    guard in this transaction; a revocation committed meanwhile takes effect on the next request).
    """
    if not await orgs.lock_organization(db, ctx.organization_id):
        raise OrganizationNotFound()
    caller = [] if ctx.user_id is None else [ctx.user_id]
    standing = await orgs.get_standing(db, ctx.organization_id, [*caller, *user_ids])
    if standing is None:
        raise OrganizationNotFound()
    fresh = replace(
        ctx,
        role=None if ctx.user_id is None else standing.role(ctx.user_id),
        status=standing.state.status,
        owner_id=standing.state.owner_id,
    )
    return policies.visible(fresh), standing


async def admit_locked(
    db: AsyncSession, ctx: OrgContext, action: Action, *user_ids: uuid.UUID
) -> tuple[OrgContext, OrgStanding]:
    """The shape of every org mutation's start: the permission checked (failing fast, before any
    lock), the organization locked and the standing re-read inside the lock (`lock`), and the
    permission checked again — a concurrent change may have taken it away meanwhile."""
    policies.require(ctx, action)
    fresh, standing = await lock(db, ctx, *user_ids)
    policies.require(fresh, action)
    return fresh, standing


async def active_user(db: AsyncSession, user_id: uuid.UUID) -> UserState:
    """The user, locked against a concurrent status change until commit; 404 / 409 otherwise."""
    if not await users_repo.lock_user(db, user_id):
        raise UserNotFound()
    user = await users_repo.get_user_state(db, user_id)
    if user is None:
        raise UserNotFound()
    if not user.is_active:
        raise UserNotActive()
    return user
