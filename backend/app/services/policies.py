"""Who may do what inside an organization: SPEC §5, row by row, plus the organization-status rules.

Pure functions of an `OrgContext` (the caller's current role and the organization's status, as
composed by the guard's one query or re-read inside the organization lock). No SQL, no HTTP.

Permission table (SPEC §5)                        policy
-----------------------------------------------  -----------------------------------------
read org, members, admins, owner                  can_read_org
update org profile                                can_update_profile
add member                                        can_add_member
remove a plain member / remove an admin           can_remove_member(ctx, target_role, is_self)
grant / revoke admin                              can_manage_admins
transfer ownership                                can_transfer_ownership
deactivate / activate, archive / restore org      can_change_lifecycle
suspend / lift suspension of org                  can_suspend
read history (/events) and past state (as_of)     can_read_history

Platform admins pass every policy; what they do is recorded with their own id as actor.
Status rules (`require`): archived → invisible (404) but to the owner and platform admins;
suspended → 403 `organization_suspended` for everything but reading the organization itself;
inactive → 409 `organization_inactive` for every mutation but the lifecycle ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.core.errors import Conflict, Forbidden, NotFound
from app.repositories.organizations import ACTIVE, ADMIN, ARCHIVED, INACTIVE, MEMBER, OWNER, SUSPENDED

__all__ = ["ACTIVE", "ADMIN", "ARCHIVED", "INACTIVE", "MEMBER", "OWNER", "SUSPENDED"]


# ------------------------------------------------------------------------------------- errors


class OrganizationNotFound(NotFound):
    """Unknown, invisible to the caller, or not the caller's: one answer, never which."""

    code, detail = "organization_not_found", "Organization not found."


class OrganizationSuspended(Forbidden):
    code, detail = "organization_suspended", "This organization is suspended."


class OrganizationInactive(Conflict):
    code, detail = "organization_inactive", "This organization is inactive (read-only)."


class OrganizationArchived(Conflict):
    code, detail = "organization_archived", "This organization is archived; restore it first."


# ------------------------------------------------------------------------------------ context


@dataclass(frozen=True, slots=True)
class OrgContext:
    """The caller inside one organization, as the guard (or the organization lock) found it."""

    organization_id: uuid.UUID
    user_id: uuid.UUID
    role: str | None  # owner | admin | member | None (platform admin who is not a member)
    is_platform_admin: bool
    status: str  # active | inactive | suspended | archived
    owner_id: uuid.UUID | None
    now: datetime

    @property
    def is_owner(self) -> bool:
        return self.role == OWNER


def can_see(ctx: OrgContext) -> bool:
    """Members see their organization; an archived one only its owner. Platform admins see all."""
    if ctx.is_platform_admin:
        return True
    if ctx.role is None:
        return False
    return ctx.status != ARCHIVED or ctx.role == OWNER


def visible(ctx: OrgContext) -> OrgContext:
    """`ctx`, or the same 404 a missing organization gets."""
    if not can_see(ctx):
        raise OrganizationNotFound()
    return ctx


# ---------------------------------------------------------------------------- permission table


def can_read_org(ctx: OrgContext) -> bool:
    return ctx.is_platform_admin or ctx.role in (MEMBER, ADMIN, OWNER)


def can_update_profile(ctx: OrgContext) -> bool:
    return ctx.is_platform_admin or ctx.role in (ADMIN, OWNER)


def can_add_member(ctx: OrgContext) -> bool:
    return ctx.is_platform_admin or ctx.role in (ADMIN, OWNER)


def can_remove_member(ctx: OrgContext, target_role: str | None, is_self: bool) -> bool:
    """Plain member: only themself (leave). Admin: plain members and themself, not other admins
    (nor the owner). Owner, platform admin: anyone (the owner's own removal is a rule conflict,
    `owner_cannot_be_removed` / `owner_cannot_leave`, not a permission)."""
    if ctx.is_platform_admin or ctx.role == OWNER:
        return True
    if ctx.role == ADMIN:
        return is_self or target_role in (MEMBER, None)
    if ctx.role == MEMBER:
        return is_self
    return False


def can_manage_admins(ctx: OrgContext) -> bool:
    return ctx.is_platform_admin or ctx.role == OWNER


def can_transfer_ownership(ctx: OrgContext) -> bool:
    return ctx.is_platform_admin or ctx.role == OWNER


def can_change_lifecycle(ctx: OrgContext) -> bool:
    """Deactivate / activate, archive / restore."""
    return ctx.is_platform_admin or ctx.role == OWNER


def can_suspend(ctx: OrgContext) -> bool:
    """Suspend / lift a suspension."""
    return ctx.is_platform_admin


def can_read_history(ctx: OrgContext) -> bool:
    """`/events` and `as_of` reads."""
    return ctx.is_platform_admin or ctx.role in (ADMIN, OWNER)


# ------------------------------------------------------------------------------- status rules


class Action(StrEnum):
    READ_ORG = "read_org"  # GET /organizations/{id}: the one call members may make while suspended
    READ = "read"  # members, admins, owner
    READ_HISTORY = "read_history"
    UPDATE_PROFILE = "update_profile"
    ADD_MEMBER = "add_member"
    REMOVE_MEMBER = "remove_member"
    GRANT_ADMIN = "grant_admin"
    REVOKE_ADMIN = "revoke_admin"
    TRANSFER_OWNERSHIP = "transfer_ownership"
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"
    ARCHIVE = "archive"
    RESTORE = "restore"
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"


READS = frozenset({Action.READ_ORG, Action.READ, Action.READ_HISTORY})
LIFECYCLE = frozenset({Action.ACTIVATE, Action.DEACTIVATE, Action.ARCHIVE, Action.RESTORE})
SUSPENSION = frozenset({Action.SUSPEND, Action.UNSUSPEND})
# Everything else changes who is in the organization or what it is called: refused unless active.
MEMBERSHIP_CHANGES = frozenset(Action) - READS - LIFECYCLE - SUSPENSION


def require(ctx: OrgContext, action: Action, allowed: bool) -> None:
    """Refuse `action` unless the organization's status admits it and the policy `allowed` it.

    Order: suspended (403 organization_suspended) → permission (403 forbidden) → archived /
    inactive (409). Visibility (404) was settled when `ctx` was made.
    """
    if ctx.status == SUSPENDED and action != Action.READ_ORG:
        # Platform admins may still read and move the organization through its lifecycle.
        if not (ctx.is_platform_admin and action in READS | LIFECYCLE | SUSPENSION):
            raise OrganizationSuspended()
    if not allowed:
        raise Forbidden()
    if ctx.status == ARCHIVED and (action in MEMBERSHIP_CHANGES or action in (Action.ACTIVATE, Action.DEACTIVATE)):
        raise OrganizationArchived()
    if ctx.status == INACTIVE and action in MEMBERSHIP_CHANGES:
        raise OrganizationInactive()
