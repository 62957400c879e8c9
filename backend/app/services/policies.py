"""Who may do what inside an organization: the permission catalog applied, plus the status rules.

Pure functions of an `OrgContext` (the caller's current role — or API key — and the
organization's status, as composed by the guard's one query or re-read inside the organization
lock). No SQL, no HTTP. What each role may do is data (`domain/permissions.py`); here are only
the rules that read it:

- `admit(ctx, permission)`: the guard's check — suspended (403 `organization_suspended`), then
  the permission (403 `forbidden`);
- `require(ctx, action)`: the same for one service action (its permission is `PERMISSION_OF`),
  then the read-only rules of inactive and archived organizations (409);
- named special cases: `can_remove_member` (leaving needs no permission; removing an admin also
  needs `admins:revoke`, since their grant goes with them), platform administrators (every
  permission; suspended organizations still admit their reads and lifecycle actions),
  `can_see` (archived: invisible but to the owner and platform admins), API keys (their own
  permissions; nothing at all while their organization is suspended, 404 once archived).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.core.errors import Forbidden
from app.domain.errors import OrganizationArchived, OrganizationInactive, OrganizationNotFound, OrganizationSuspended
from app.domain.permissions import ALL_PERMISSIONS, READS, Permission, role_permissions
from app.domain.vocabulary import Role, Status

# ------------------------------------------------------------------------------------- errors


# ------------------------------------------------------------------------------------ context


@dataclass(frozen=True, slots=True)
class OrgContext:
    """The caller inside one organization, as the guard (or the organization lock) found it."""

    organization_id: uuid.UUID
    user_id: uuid.UUID | None  # None: an API key acts (`api_key_id`)
    role: Role | None  # None: a platform admin who is not a member, or an API key
    is_platform_admin: bool
    status: Status
    owner_id: uuid.UUID | None
    now: datetime
    api_key_id: uuid.UUID | None = None
    key_permissions: frozenset[Permission] = frozenset()

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def is_api_key(self) -> bool:
        return self.api_key_id is not None

    @property
    def caller_id(self) -> uuid.UUID:
        """Who is calling, whatever kind: the key's id or the user's (for throttling and logs)."""
        caller = self.api_key_id or self.user_id
        assert caller is not None
        return caller

    @property
    def permissions(self) -> frozenset[Permission]:
        """What the caller may do here: a key's own permissions; every permission for platform
        admins; else their role's."""
        if self.api_key_id is not None:
            return self.key_permissions
        if self.is_platform_admin:
            return ALL_PERMISSIONS
        return role_permissions(self.role)


def can_see(ctx: OrgContext) -> bool:
    """Members see their organization; an archived one only its owner. Platform admins see all.
    A key sees its own organization (the guard checked it is this one) until it is archived."""
    if ctx.is_platform_admin:
        return True
    if ctx.is_api_key:
        return ctx.status != Status.ARCHIVED
    if ctx.role is None:
        return False
    return ctx.status != Status.ARCHIVED or ctx.role == Role.OWNER


def visible(ctx: OrgContext) -> OrgContext:
    """`ctx`, or the same 404 a missing organization gets."""
    if not can_see(ctx):
        raise OrganizationNotFound()
    return ctx


# ---------------------------------------------------------------------------------- actions


class Action(StrEnum):
    """What a service function does; each needs one permission (`PERMISSION_OF`)."""

    READ_ORG = "read_org"  # GET /organizations/{id}: the one call members may make while suspended
    READ_MEMBERS = "read_members"
    READ_ADMINS = "read_admins"
    READ_OWNER = "read_owner"
    READ_HISTORY = "read_history"  # /events and every as_of read
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
    READ_API_KEYS = "read_api_keys"
    CREATE_API_KEY = "create_api_key"
    REVOKE_API_KEY = "revoke_api_key"
    READ_INVITATIONS = "read_invitations"
    INVITE_MEMBER = "invite_member"
    INVITE_ADMIN = "invite_admin"
    REVOKE_INVITATION = "revoke_invitation"


PERMISSION_OF: dict[Action, Permission] = {
    Action.READ_ORG: Permission.ORGANIZATION_READ,
    Action.READ_MEMBERS: Permission.MEMBERS_READ,
    Action.READ_ADMINS: Permission.ADMINS_READ,
    Action.READ_OWNER: Permission.OWNER_READ,
    Action.READ_HISTORY: Permission.EVENTS_READ,
    Action.UPDATE_PROFILE: Permission.ORGANIZATION_UPDATE,
    Action.ADD_MEMBER: Permission.MEMBERS_ADD,
    Action.REMOVE_MEMBER: Permission.MEMBERS_REMOVE,
    Action.GRANT_ADMIN: Permission.ADMINS_GRANT,
    Action.REVOKE_ADMIN: Permission.ADMINS_REVOKE,
    Action.TRANSFER_OWNERSHIP: Permission.OWNERSHIP_TRANSFER,
    Action.ACTIVATE: Permission.ORGANIZATION_LIFECYCLE,
    Action.DEACTIVATE: Permission.ORGANIZATION_LIFECYCLE,
    Action.ARCHIVE: Permission.ORGANIZATION_LIFECYCLE,
    Action.RESTORE: Permission.ORGANIZATION_LIFECYCLE,
    Action.SUSPEND: Permission.ORGANIZATION_SUSPEND,
    Action.UNSUSPEND: Permission.ORGANIZATION_SUSPEND,
    Action.READ_API_KEYS: Permission.API_KEYS_READ,
    Action.CREATE_API_KEY: Permission.API_KEYS_CREATE,
    Action.REVOKE_API_KEY: Permission.API_KEYS_REVOKE,
    Action.READ_INVITATIONS: Permission.INVITATIONS_READ,
    Action.INVITE_MEMBER: Permission.INVITATIONS_CREATE,
    Action.INVITE_ADMIN: Permission.INVITATIONS_CREATE_ADMIN,
    Action.REVOKE_INVITATION: Permission.INVITATIONS_REVOKE,
}

LIFECYCLE = frozenset({Action.ACTIVATE, Action.DEACTIVATE, Action.ARCHIVE, Action.RESTORE})
SUSPENSION = frozenset({Action.SUSPEND, Action.UNSUSPEND})
# Revoking a key is a safety valve: it works in inactive and archived organizations too.
ALWAYS_ALLOWED = frozenset({Action.REVOKE_API_KEY})
# Everything else that writes changes who is in the organization, what it is called or who may
# act on it: refused unless the organization is active.
CHANGES = frozenset(a for a in Action if PERMISSION_OF[a] not in READS) - LIFECYCLE - SUSPENSION - ALWAYS_ALLOWED

# While suspended, platform admins may still read and move the organization through its lifecycle.
_PLATFORM_WHILE_SUSPENDED = READS | {Permission.ORGANIZATION_LIFECYCLE, Permission.ORGANIZATION_SUSPEND}


# --------------------------------------------------------------------------- special cases


def can_remove_member(ctx: OrgContext, target_role: str | None, is_self: bool) -> bool:
    """Leaving needs no permission (the owner's own leaving is then a rule conflict). Removing
    someone else needs `members:remove`, and removing an admin (or the owner) also
    `admins:revoke`, since their grant goes with them."""
    if is_self:
        return True
    if Permission.MEMBERS_REMOVE not in ctx.permissions:
        return False
    return target_role in (Role.MEMBER, None) or Permission.ADMINS_REVOKE in ctx.permissions


# ------------------------------------------------------------------------------- the checks


def admit(ctx: OrgContext, permission: Permission, *, allowed: bool | None = None) -> None:
    """The guard's check: suspended (403 organization_suspended), then the permission (403
    forbidden; `allowed` overrides the catalog for a named special case). Visibility (404) was
    settled when `ctx` was made."""
    if ctx.status == Status.SUSPENDED:
        # Members may still read the organization itself; a key stops working altogether.
        member_read = permission == Permission.ORGANIZATION_READ and not ctx.is_api_key
        platform = ctx.is_platform_admin and permission in _PLATFORM_WHILE_SUSPENDED
        if not (member_read or platform):
            raise OrganizationSuspended()
    if not (permission in ctx.permissions if allowed is None else allowed):
        raise Forbidden()


def require(ctx: OrgContext, action: Action, *, allowed: bool | None = None) -> None:
    """Refuse `action` unless the caller holds its permission and the organization's status admits it.

    Order: suspended (403 organization_suspended) → permission (403 forbidden) → archived /
    inactive (409).
    """
    admit(ctx, PERMISSION_OF[action], allowed=allowed)
    if ctx.status == Status.ARCHIVED and (action in CHANGES or action in (Action.ACTIVATE, Action.DEACTIVATE)):
        raise OrganizationArchived()
    if ctx.status == Status.INACTIVE and action in CHANGES:
        raise OrganizationInactive()
