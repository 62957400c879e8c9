"""The roster: who is a member, an admin, the owner — now or as of an instant — and the rules
that change it (add, remove or leave, grant and revoke admin, transfer ownership).

Reads check the policy against the caller's `OrgContext` and read once. Mutations lock the
organization (`org_access.lock`), re-read the caller's standing and the target's inside the lock,
check again and only then append facts — so concurrent requests cannot break an invariant (one
owner; the owner is a member and an admin; every admin is a member). Nothing here commits.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import (
    AlreadyAdmin,
    AlreadyMember,
    AlreadyOwner,
    AppError,
    NotAMember,
    NotAnAdmin,
    OwnerCannotBeRemoved,
    OwnerCannotLeave,
    OwnerCannotLoseAdmin,
    OwnerNotFound,
    TooManyRequests,
    UserNotActive,
    UserNotFound,
)
from app.domain.organizations import AdminEntry, MemberEntry, OwnerEntry
from app.domain.vocabulary import GrantKind, MemberKind, Role
from app.repositories import member_lookups, roster
from app.repositories import organizations as orgs
from app.repositories import users as users_repo
from app.services import policies
from app.services.emails import normalize_email
from app.services.org_access import active_user, admit_locked, lock
from app.services.pages import Page, page_of
from app.services.policies import Action, OrgContext

# -------------------------------------------------------------------------------------- reads


def _require_read(ctx: OrgContext, action: Action, as_of: datetime | None) -> None:
    """A current-state read needs its own permission; a past state (`as_of`) is history too."""
    policies.require(ctx, action)
    if as_of is not None:
        policies.require(ctx, Action.READ_HISTORY)


async def list_members(
    db: AsyncSession, ctx: OrgContext, *, after: uuid.UUID | None = None, limit: int = 50, as_of: datetime | None = None
) -> Page[MemberEntry]:
    """Members with their role, now or as of an instant (admins and up), by user id."""
    _require_read(ctx, Action.READ_MEMBERS, as_of)
    rows = await roster.members_page(db, ctx.organization_id, after=after, limit=limit + 1, as_of=as_of)
    return page_of(rows, limit)


async def list_admins(
    db: AsyncSession, ctx: OrgContext, *, after: uuid.UUID | None = None, limit: int = 50, as_of: datetime | None = None
) -> Page[AdminEntry]:
    """Admins (the owner included), now or as of an instant (admins and up), by user id."""
    _require_read(ctx, Action.READ_ADMINS, as_of)
    rows = await roster.admins_page(db, ctx.organization_id, after=after, limit=limit + 1, as_of=as_of)
    return page_of(rows, limit)


async def get_owner(db: AsyncSession, ctx: OrgContext, *, as_of: datetime | None = None) -> OwnerEntry:
    """The owner now, or as of an instant (404 `owner_not_found` before the organization existed)."""
    _require_read(ctx, Action.READ_OWNER, as_of)
    owner = await roster.owner_at(db, ctx.organization_id, as_of=as_of)
    if owner is None:
        raise OwnerNotFound()
    return owner


# ---------------------------------------------------------------------------------- mutations


async def _admin_fact(db: AsyncSession, ctx: OrgContext, user_id: uuid.UUID, kind: GrantKind) -> None:
    """Append an admin grant fact in `ctx`'s organization, acted by its caller (user or key) at its instant."""
    await orgs.add_admin_event(
        db,
        organization_id=ctx.organization_id,
        user_id=user_id,
        kind=kind,
        at=ctx.now,
        actor_id=ctx.user_id,
        actor_api_key_id=ctx.api_key_id,
    )


async def _member_fact(db: AsyncSession, ctx: OrgContext, user_id: uuid.UUID, kind: MemberKind) -> None:
    """Append a membership fact in `ctx`'s organization, acted by its caller (user or key) at its instant."""
    await orgs.add_member_event(
        db,
        organization_id=ctx.organization_id,
        user_id=user_id,
        kind=kind,
        at=ctx.now,
        actor_id=ctx.user_id,
        actor_api_key_id=ctx.api_key_id,
    )


EMAIL_ADD_WINDOW = timedelta(hours=1)


async def add_member(
    db: AsyncSession,
    ctx: OrgContext,
    *,
    user_id: uuid.UUID | None = None,
    email: str | None = None,
    email_adds_per_hour: int = 0,
) -> MemberEntry:
    """Add an existing, active user (by id or by email) as a plain member.

    By email, the answer tells no more than by id: an email with no account and an account that
    cannot be added (not active) get the same 404 `user_not_found`. Adds by email are limited per
    caller (`email_adds_per_hour`, 0 = no limit; 429 + Retry-After), counted from
    `member_email_lookups`; each is recorded before the lookup and the refusal *commits* it, so the
    record stays even when the answer is 404.
    """
    ctx, _ = await admit_locked(db, ctx, Action.ADD_MEMBER)
    if email is None:
        if user_id is None:
            raise UserNotFound()
        return await _add(db, ctx, user_id)
    # Resolved only once the caller may add members: nobody else learns whether an email exists.
    caller = f"key:{ctx.api_key_id}" if ctx.is_api_key else str(ctx.caller_id)
    await member_lookups.lock_caller(db, caller)
    if email_adds_per_hour > 0:
        nth = await member_lookups.nth_latest(db, caller, since=ctx.now - EMAIL_ADD_WINDOW, n=email_adds_per_hour)
        if nth is not None:
            raise TooManyRequests(max(1, math.ceil((nth + EMAIL_ADD_WINDOW - ctx.now).total_seconds())))
    await member_lookups.record(db, caller=caller, organization_id=ctx.organization_id, at=ctx.now)
    credential = await users_repo.find_credential_by_email(db, normalize_email(email))
    try:
        if credential is None:
            raise UserNotFound()
        try:
            return await _add(db, ctx, credential.user_id)
        except UserNotActive:
            raise UserNotFound() from None
    except AppError as refusal:
        refusal.commits = True  # the lookup stays counted
        raise


async def _add(db: AsyncSession, ctx: OrgContext, user_id: uuid.UUID) -> MemberEntry:
    standing = await orgs.get_standing(db, ctx.organization_id, [user_id])
    if standing is not None and standing.facts(user_id).is_member:
        raise AlreadyMember()
    user = await active_user(db, user_id)
    await _member_fact(db, ctx, user_id, MemberKind.ADDED)
    return MemberEntry(user_id=user_id, display_name=user.display_name, role=Role.MEMBER, added_at=ctx.now)


async def remove_member(db: AsyncSession, ctx: OrgContext, *, user_id: uuid.UUID) -> None:
    """Remove a member, or leave (`user_id` is the caller). An admin's grant goes with them."""
    ctx, standing = await lock(db, ctx, user_id)
    target_role = standing.role(user_id)
    is_self = user_id == ctx.user_id
    policies.require(ctx, Action.REMOVE_MEMBER, allowed=policies.can_remove_member(ctx, target_role, is_self))
    if target_role is None:
        raise NotAMember()
    if target_role == Role.OWNER:
        raise OwnerCannotLeave() if is_self else OwnerCannotBeRemoved()
    if standing.facts(user_id).is_admin:
        await _admin_fact(db, ctx, user_id, GrantKind.REVOKED)
    await _member_fact(db, ctx, user_id, MemberKind.REMOVED)


async def grant_admin(db: AsyncSession, ctx: OrgContext, *, user_id: uuid.UUID) -> AdminEntry:
    """Make a current, active member an admin."""
    ctx, standing = await admit_locked(db, ctx, Action.GRANT_ADMIN, user_id)
    facts = standing.facts(user_id)
    if not facts.is_member:
        raise NotAMember()
    if facts.is_admin:
        raise AlreadyAdmin()
    user = await active_user(db, user_id)
    await _admin_fact(db, ctx, user_id, GrantKind.GRANTED)
    return AdminEntry(user_id=user_id, display_name=user.display_name, granted_at=ctx.now)


async def revoke_admin(db: AsyncSession, ctx: OrgContext, *, user_id: uuid.UUID) -> None:
    """Take an admin grant back (never the owner's)."""
    ctx, standing = await admit_locked(db, ctx, Action.REVOKE_ADMIN, user_id)
    if user_id == standing.state.owner_id:
        raise OwnerCannotLoseAdmin()
    if not standing.facts(user_id).is_admin:
        raise NotAnAdmin()
    await _admin_fact(db, ctx, user_id, GrantKind.REVOKED)


async def transfer_ownership(db: AsyncSession, ctx: OrgContext, *, user_id: uuid.UUID) -> OwnerEntry:
    """Make a current, active member the owner; the previous owner stays an admin (and member)."""
    ctx, standing = await admit_locked(db, ctx, Action.TRANSFER_OWNERSHIP, user_id)
    facts = standing.facts(user_id)
    if not facts.is_member:
        raise NotAMember()
    previous = standing.state.owner_id
    if user_id == previous:
        raise AlreadyOwner()
    user = await active_user(db, user_id)
    org_id, now, actor = ctx.organization_id, ctx.now, ctx.user_id
    await orgs.set_owner(
        db, organization_id=org_id, user_id=user_id, at=now, actor_id=actor, actor_api_key_id=ctx.api_key_id
    )
    if not facts.is_admin:
        await _admin_fact(db, ctx, user_id, GrantKind.GRANTED)
    if previous is not None:
        # The owner always holds a grant; re-grant only if an older history says otherwise.
        before = standing if previous in standing.users else await orgs.get_standing(db, org_id, [previous])
        if before is not None and not before.facts(previous).is_admin:
            await _admin_fact(db, ctx, previous, GrantKind.GRANTED)
    return OwnerEntry(user_id=user_id, display_name=user.display_name, since=now)
