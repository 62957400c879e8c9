"""Organization rules: creation, the caller's organizations, entry, the profile and the lifecycle.

The roster (members, admins, owner) lives in `services/roster.py`, the history feed in
`services/history.py`, the caller's standing (`OrgContext`, the lock) in `services/org_access.py`.
Every org-scoped function takes the caller's `OrgContext`; a mutation locks the organization and
re-checks the rule inside the lock. Nothing here commits: the request's transaction does.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import AppError, EmailNotVerified, OrganizationNotFound, OrganizationSuspended
from app.domain.lifecycle import LIFECYCLE, Transition
from app.domain.organizations import Membership, OrgState
from app.domain.vocabulary import GrantKind, MemberKind, Role, Status
from app.repositories import organizations as orgs
from app.repositories import users as users_repo
from app.services import policies
from app.services.org_access import admit_locked
from app.services.pages import Page, page_of
from app.services.policies import Action, OrgContext

# --------------------------------------------------------------------- creation, my orgs, entry


async def create_organization(
    db: AsyncSession, *, creator_id: uuid.UUID, name: str, description: str | None = None, now: datetime
) -> uuid.UUID:
    """A new organization whose creator is its owner, member and admin (one transaction).

    The owner always holds an admin grant (also after a transfer), so the admins list shows the
    owner and "the owner cannot lose admin" is a rule on an ordinary grant.
    """
    organization_id = uuid.uuid4()
    await orgs.create_organization(db, organization_id=organization_id, created_by=creator_id, at=now)
    await orgs.lock_organization(db, organization_id)
    await orgs.add_profile(
        db, organization_id=organization_id, name=name, description=description, at=now, actor_id=creator_id
    )
    await orgs.add_member_event(
        db, organization_id=organization_id, user_id=creator_id, kind=MemberKind.ADDED, at=now, actor_id=creator_id
    )
    await orgs.add_admin_event(
        db, organization_id=organization_id, user_id=creator_id, kind=GrantKind.GRANTED, at=now, actor_id=creator_id
    )
    await orgs.set_owner(db, organization_id=organization_id, user_id=creator_id, at=now, actor_id=creator_id)
    return organization_id


async def found_organization(
    db: AsyncSession,
    *,
    creator_id: uuid.UUID,
    name: str,
    description: str | None = None,
    now: datetime,
    require_verified_email: bool = False,
) -> Membership:
    """`create_organization`, answered as the creator's new membership (no extra read).

    With `require_verified_email` (REQUIRE_VERIFIED_EMAIL) an unverified creator gets 403
    `email_not_verified`."""
    if require_verified_email:
        creator = await users_repo.get_user_state(db, creator_id)
        if creator is None or not creator.email_verified:
            raise EmailNotVerified()
    organization_id = await create_organization(db, creator_id=creator_id, name=name, description=description, now=now)
    state = OrgState(
        id=organization_id,
        created_at=now,
        created_by=creator_id,
        name=name,
        description=description,
        status=Status.ACTIVE,
        owner_id=creator_id,
    )
    return Membership(organization=state, role=Role.OWNER, added_at=now)


async def list_my_organizations(
    db: AsyncSession, *, user_id: uuid.UUID, after: uuid.UUID | None = None, limit: int = 50
) -> Page[Membership]:
    """The caller's organizations with their role; archived ones only where they are the owner."""
    return page_of(await orgs.memberships_of_user(db, user_id, after=after, limit=limit + 1), limit)


async def membership(db: AsyncSession, *, user_id: uuid.UUID, organization_id: uuid.UUID) -> Membership | None:
    """The user's current membership in this organization as `GET /organizations` lists it (an
    archived organization only for its owner), or None: one probe of the by-user index."""
    page = await orgs.memberships_of_user(db, user_id, after=_just_before(organization_id), limit=1)
    return page[0] if page and page[0].organization.id == organization_id else None


_ENTERABLE = (Status.ACTIVE, Status.INACTIVE)  # an inactive organization is read-only, but enterable


async def can_enter(db: AsyncSession, *, user_id: uuid.UUID, organization_id: uuid.UUID) -> bool:
    """May the user make this organization the active one of a session (switch, login, refresh)?
    Yes while the user is a current member and the organization is neither suspended nor archived."""
    found = await membership(db, user_id=user_id, organization_id=organization_id)
    return found is not None and found.organization.status in _ENTERABLE


async def entry_refusal(db: AsyncSession, *, user_id: uuid.UUID, organization_id: uuid.UUID) -> AppError | None:
    """None when the user may make the organization a session's active one; otherwise the error:
    403 `organization_suspended` for a member of a suspended organization, 404 for everything
    else (not a member, archived, unknown — never which)."""
    found = await membership(db, user_id=user_id, organization_id=organization_id)
    if found is not None and found.organization.status in _ENTERABLE:
        return None
    if found is not None and found.organization.status == Status.SUSPENDED:
        return OrganizationSuspended(pointer="/body/organization_id")
    return OrganizationNotFound(pointer="/body/organization_id")


def _just_before(value: uuid.UUID) -> uuid.UUID | None:
    return uuid.UUID(int=value.int - 1) if value.int else None


# -------------------------------------------------------------------------------------- reads


async def get_organization(db: AsyncSession, ctx: OrgContext) -> OrgState:
    policies.require(ctx, Action.READ_ORG)
    state = await orgs.get_org_state(db, ctx.organization_id)
    if state is None:
        raise OrganizationNotFound()
    return state


# ---------------------------------------------------------------------------- profile, status


_UNSET = object()


async def update_profile(
    db: AsyncSession, ctx: OrgContext, *, name: str | None = None, description: str | object | None = _UNSET
) -> OrgState:
    """A new profile fact: the given fields, the current values for the others."""
    ctx, standing = await admit_locked(db, ctx, Action.UPDATE_PROFILE)
    state = standing.state
    new_name = state.name if name is None else name
    new_description = state.description if description is _UNSET else description
    assert new_description is None or isinstance(new_description, str)
    await orgs.add_profile(
        db,
        organization_id=state.id,
        name=new_name,
        description=new_description,
        at=ctx.now,
        actor_id=ctx.user_id,
        actor_api_key_id=ctx.api_key_id,
    )
    return replace(state, name=new_name, description=new_description)


async def change_status(
    db: AsyncSession, ctx: OrgContext, transition: Transition, *, reason: str | None = None
) -> OrgState:
    """activate | deactivate | suspend | unsuspend | archive | restore (`domain.lifecycle`): one
    status fact, refused (409) when it would change nothing. Memberships, grants and ownership are
    untouched, so lifting a status brings them all back."""
    action = Action(transition.value)
    move = LIFECYCLE[transition]
    ctx, standing = await admit_locked(db, ctx, action)
    if move.changes_nothing(standing.lifecycle):
        raise move.organization_refusal()
    await orgs.add_status_event(
        db,
        organization_id=ctx.organization_id,
        kind=move.fact,
        at=ctx.now,
        actor_id=ctx.user_id,
        actor_api_key_id=ctx.api_key_id,
        reason=reason,
    )
    state = await orgs.get_org_state(db, ctx.organization_id)
    assert state is not None
    return state
