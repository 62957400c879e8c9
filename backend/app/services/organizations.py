"""Organization rules: creation, membership, admins, ownership, lifecycle — and the reads.

Every org-scoped function takes the caller's `OrgContext` (from the guard in `api/deps.py`).
Reads check the policy against it and read once. Mutations lock the organization, re-read the
caller's standing and the organization's state inside the lock, check again and only then
append facts — so concurrent requests cannot break an invariant (one owner; the owner is a
member and an admin; every admin is a member). Nothing here commits: the request's transaction
does. `ctx.now` is the request's instant (the injectable clock's, read once by the guard).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.domain.errors import (
    AlreadyActive,
    AlreadyAdmin,
    AlreadyArchived,
    AlreadyInactive,
    AlreadyMember,
    AlreadyOwner,
    AlreadySuspended,
    AppError,
    EmailNotVerified,
    NotAMember,
    NotAnAdmin,
    NotArchived,
    NotSuspended,
    OrganizationNotFound,
    OwnerCannotBeRemoved,
    OwnerCannotLeave,
    OwnerCannotLoseAdmin,
    OwnerNotFound,
    TooManyRequests,
    UserNotActive,
    UserNotFound,
)
from app.domain.organizations import (
    AdminEntry,
    EventPosition,
    MemberEntry,
    Membership,
    OrgEvent,
    OrgStanding,
    OrgState,
    OwnerEntry,
    role_of,
)
from app.domain.sessions import Principal
from app.domain.users import UserState
from app.domain.vocabulary import (
    ActiveKind,
    ArchiveKind,
    GrantKind,
    LifecycleKind,
    MemberKind,
    Role,
    Status,
    SuspensionKind,
)
from app.repositories import events as events_repo
from app.repositories import member_lookups, roster
from app.repositories import organizations as orgs
from app.repositories import users as users_repo
from app.services import policies
from app.services.emails import normalize_email
from app.services.policies import Action, OrgContext

T = TypeVar("T")

# ------------------------------------------------------------------------------------- errors


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list; `more` when a next page exists."""

    items: list[T]
    more: bool


def _page(rows: list[T], limit: int) -> Page[T]:
    # Every list reads limit + 1 rows: the extra one only says whether to hand out a cursor.
    return Page(items=rows[:limit], more=len(rows) > limit)


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
    return _page(await orgs.memberships_of_user(db, user_id, after=after, limit=limit + 1), limit)


async def can_enter(db: AsyncSession, *, user_id: uuid.UUID, organization_id: uuid.UUID) -> bool:
    """May the user make this organization the active one of a session (switch, login, refresh)?

    Yes while the user is a current member and the organization is neither suspended nor
    archived (an inactive organization is read-only, but still enterable).
    """
    page = await orgs.memberships_of_user(db, user_id, after=_just_before(organization_id), limit=1)
    return (
        bool(page)
        and page[0].organization.id == organization_id
        and page[0].organization.status in (Status.ACTIVE, Status.INACTIVE)
    )


def _just_before(value: uuid.UUID) -> uuid.UUID | None:
    return uuid.UUID(int=value.int - 1) if value.int else None


# ------------------------------------------------------------------------------------ context


def _context(standing: OrgStanding, *, user_id: uuid.UUID, is_platform_admin: bool, now: datetime) -> OrgContext:
    return policies.visible(
        OrgContext(
            organization_id=standing.state.id,
            user_id=user_id,
            role=standing.role(user_id),
            is_platform_admin=is_platform_admin,
            status=standing.state.status,
            owner_id=standing.state.owner_id,
            now=now,
        )
    )


def org_context(principal: Principal, *, now: datetime) -> OrgContext:
    """The guard's context from the principal query's org columns; 404 when not visible."""
    access = principal.org
    if access is None or not access.exists:
        raise OrganizationNotFound()
    owner_id = access.owner_id
    return policies.visible(
        OrgContext(
            organization_id=access.organization_id,
            user_id=principal.user_id,
            role=role_of(principal.user_id, is_member=access.is_member, is_admin=access.is_admin, owner_id=owner_id),
            is_platform_admin=principal.is_platform_admin,
            status=access.status,
            owner_id=owner_id,
            now=now,
        )
    )


async def load_context(
    db: AsyncSession, *, organization_id: uuid.UUID, user_id: uuid.UUID, is_platform_admin: bool, now: datetime
) -> OrgContext:
    """An `OrgContext` without a token (jobs, tests): the same composition as the guard's."""
    standing = await orgs.get_standing(db, organization_id, [user_id])
    if standing is None:
        raise OrganizationNotFound()
    return _context(standing, user_id=user_id, is_platform_admin=is_platform_admin, now=now)


async def _lock(db: AsyncSession, ctx: OrgContext, *user_ids: uuid.UUID) -> tuple[OrgContext, OrgStanding]:
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


async def lock_context(db: AsyncSession, ctx: OrgContext) -> OrgContext:
    """Lock the organization and re-read the caller's standing inside the lock (for the
    organization's mutations that live in other modules, e.g. API keys)."""
    fresh, _ = await _lock(db, ctx)
    return fresh


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


async def _active_user(db: AsyncSession, user_id: uuid.UUID) -> UserState:
    """The user, locked against a concurrent status change until commit; 404 / 409 otherwise."""
    if not await users_repo.lock_user(db, user_id):
        raise UserNotFound()
    user = await users_repo.get_user_state(db, user_id)
    if user is None:
        raise UserNotFound()
    if not user.is_active:
        raise UserNotActive()
    return user


# -------------------------------------------------------------------------------------- reads


async def get_organization(db: AsyncSession, ctx: OrgContext) -> OrgState:
    policies.require(ctx, Action.READ_ORG)
    state = await orgs.get_org_state(db, ctx.organization_id)
    if state is None:
        raise OrganizationNotFound()
    return state


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
    return _page(rows, limit)


async def list_admins(
    db: AsyncSession, ctx: OrgContext, *, after: uuid.UUID | None = None, limit: int = 50, as_of: datetime | None = None
) -> Page[AdminEntry]:
    """Admins (the owner included), now or as of an instant (admins and up), by user id."""
    _require_read(ctx, Action.READ_ADMINS, as_of)
    rows = await roster.admins_page(db, ctx.organization_id, after=after, limit=limit + 1, as_of=as_of)
    return _page(rows, limit)


async def get_owner(db: AsyncSession, ctx: OrgContext, *, as_of: datetime | None = None) -> OwnerEntry:
    """The owner now, or as of an instant (404 `owner_not_found` before the organization existed)."""
    _require_read(ctx, Action.READ_OWNER, as_of)
    owner = await roster.owner_at(db, ctx.organization_id, as_of=as_of)
    if owner is None:
        raise OwnerNotFound()
    return owner


async def list_events(
    db: AsyncSession, ctx: OrgContext, *, before: EventPosition | None = None, limit: int = 50
) -> Page[OrgEvent]:
    """The organization's whole history, newest first (admins and up)."""
    policies.require(ctx, Action.READ_HISTORY)
    rows = await events_repo.events_page(db, ctx.organization_id, before=before, limit=limit + 1)
    return _page(rows, limit)


# ---------------------------------------------------------------------------------- mutations


_UNSET = object()


async def update_profile(
    db: AsyncSession, ctx: OrgContext, *, name: str | None = None, description: str | object | None = _UNSET
) -> OrgState:
    """A new profile fact: the given fields, the current values for the others."""
    policies.require(ctx, Action.UPDATE_PROFILE)
    ctx, standing = await _lock(db, ctx)
    policies.require(ctx, Action.UPDATE_PROFILE)
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
    policies.require(ctx, Action.ADD_MEMBER)
    ctx, _ = await _lock(db, ctx)
    policies.require(ctx, Action.ADD_MEMBER)
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
    user = await _active_user(db, user_id)
    await _member_fact(db, ctx, user_id, MemberKind.ADDED)
    return MemberEntry(user_id=user_id, display_name=user.display_name, role=Role.MEMBER, added_at=ctx.now)


async def remove_member(db: AsyncSession, ctx: OrgContext, *, user_id: uuid.UUID) -> None:
    """Remove a member, or leave (`user_id` is the caller). An admin's grant goes with them."""
    ctx, standing = await _lock(db, ctx, user_id)
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
    policies.require(ctx, Action.GRANT_ADMIN)
    ctx, standing = await _lock(db, ctx, user_id)
    policies.require(ctx, Action.GRANT_ADMIN)
    facts = standing.facts(user_id)
    if not facts.is_member:
        raise NotAMember()
    if facts.is_admin:
        raise AlreadyAdmin()
    user = await _active_user(db, user_id)
    await _admin_fact(db, ctx, user_id, GrantKind.GRANTED)
    return AdminEntry(user_id=user_id, display_name=user.display_name, granted_at=ctx.now)


async def revoke_admin(db: AsyncSession, ctx: OrgContext, *, user_id: uuid.UUID) -> None:
    """Take an admin grant back (never the owner's)."""
    policies.require(ctx, Action.REVOKE_ADMIN)
    ctx, standing = await _lock(db, ctx, user_id)
    policies.require(ctx, Action.REVOKE_ADMIN)
    if user_id == standing.state.owner_id:
        raise OwnerCannotLoseAdmin()
    if not standing.facts(user_id).is_admin:
        raise NotAnAdmin()
    await _admin_fact(db, ctx, user_id, GrantKind.REVOKED)


async def transfer_ownership(db: AsyncSession, ctx: OrgContext, *, user_id: uuid.UUID) -> OwnerEntry:
    """Make a current, active member the owner; the previous owner stays an admin (and member)."""
    policies.require(ctx, Action.TRANSFER_OWNERSHIP)
    ctx, standing = await _lock(db, ctx, user_id)
    policies.require(ctx, Action.TRANSFER_OWNERSHIP)
    facts = standing.facts(user_id)
    if not facts.is_member:
        raise NotAMember()
    previous = standing.state.owner_id
    if user_id == previous:
        raise AlreadyOwner()
    user = await _active_user(db, user_id)
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


async def _change_status(db: AsyncSession, ctx: OrgContext, action: Action, *, reason: str | None = None) -> OrgState:
    policies.require(ctx, action)
    ctx, standing = await _lock(db, ctx)
    policies.require(ctx, action)
    deactivated = standing.active_kind == ActiveKind.DEACTIVATED
    suspended = standing.suspension_kind == SuspensionKind.SUSPENDED
    archived = standing.archive_kind == ArchiveKind.ARCHIVED
    conflicts: dict[Action, tuple[bool, type[Conflict], LifecycleKind]] = {
        Action.ACTIVATE: (not deactivated, AlreadyActive, ActiveKind.ACTIVATED),
        Action.DEACTIVATE: (deactivated, AlreadyInactive, ActiveKind.DEACTIVATED),
        Action.SUSPEND: (suspended, AlreadySuspended, SuspensionKind.SUSPENDED),
        Action.UNSUSPEND: (not suspended, NotSuspended, SuspensionKind.LIFTED),
        Action.ARCHIVE: (archived, AlreadyArchived, ArchiveKind.ARCHIVED),
        Action.RESTORE: (not archived, NotArchived, ArchiveKind.RESTORED),
    }
    conflict, error, kind = conflicts[action]
    if conflict:
        raise error()
    await orgs.add_status_event(
        db,
        organization_id=ctx.organization_id,
        kind=kind,
        at=ctx.now,
        actor_id=ctx.user_id,
        actor_api_key_id=ctx.api_key_id,
        reason=reason,
    )
    # Memberships, grants and ownership are untouched: lifting a status brings them all back.
    state = await orgs.get_org_state(db, ctx.organization_id)
    assert state is not None
    return state


async def activate(db: AsyncSession, ctx: OrgContext) -> OrgState:
    return await _change_status(db, ctx, Action.ACTIVATE)


async def deactivate(db: AsyncSession, ctx: OrgContext) -> OrgState:
    return await _change_status(db, ctx, Action.DEACTIVATE)


async def suspend(db: AsyncSession, ctx: OrgContext, *, reason: str) -> OrgState:
    return await _change_status(db, ctx, Action.SUSPEND, reason=reason)


async def unsuspend(db: AsyncSession, ctx: OrgContext) -> OrgState:
    return await _change_status(db, ctx, Action.UNSUSPEND)


async def archive(db: AsyncSession, ctx: OrgContext) -> OrgState:
    return await _change_status(db, ctx, Action.ARCHIVE)


async def restore(db: AsyncSession, ctx: OrgContext) -> OrgState:
    return await _change_status(db, ctx, Action.RESTORE)
