"""The permission catalog (SPEC §11): `resource:action` permissions and the role → permissions map.

Data, not code: SPEC §5's table is this catalog read by role. Every org-scoped route names the one
permission it needs (`api.deps.Requires`), and the one org guard checks it; the policies of
`services/policies.py` read the same sets. Three special cases stay named where they are decided:
leaving (a member may remove themself without `members:remove`), platform administrators (every
permission, in every organization, including `organization:suspend` that no role holds), and the
organization-status rules (`policies.require`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from app.domain.vocabulary import Role


class Permission(StrEnum):
    ORGANIZATION_READ = "organization:read"
    MEMBERS_READ = "members:read"
    ADMINS_READ = "admins:read"
    OWNER_READ = "owner:read"

    ORGANIZATION_UPDATE = "organization:update"
    MEMBERS_ADD = "members:add"
    MEMBERS_REMOVE = "members:remove"
    EVENTS_READ = "events:read"  # `/events` and every `as_of` read
    INVITATIONS_READ = "invitations:read"
    INVITATIONS_CREATE = "invitations:create"
    INVITATIONS_REVOKE = "invitations:revoke"
    API_KEYS_READ = "api_keys:read"
    API_KEYS_CREATE = "api_keys:create"
    API_KEYS_REVOKE = "api_keys:revoke"

    ADMINS_GRANT = "admins:grant"
    ADMINS_REVOKE = "admins:revoke"
    OWNERSHIP_TRANSFER = "ownership:transfer"
    ORGANIZATION_LIFECYCLE = "organization:lifecycle"  # deactivate, activate, archive, restore
    INVITATIONS_CREATE_ADMIN = "invitations:create_admin"

    # Held by no role: platform administrators only (and so never by an API key).
    ORGANIZATION_SUSPEND = "organization:suspend"  # suspend, lift a suspension


_MEMBER = frozenset(
    {Permission.ORGANIZATION_READ, Permission.MEMBERS_READ, Permission.ADMINS_READ, Permission.OWNER_READ}
)
_ADMIN = _MEMBER | {
    Permission.ORGANIZATION_UPDATE,
    Permission.MEMBERS_ADD,
    Permission.MEMBERS_REMOVE,
    Permission.EVENTS_READ,
    Permission.INVITATIONS_READ,
    Permission.INVITATIONS_CREATE,
    Permission.INVITATIONS_REVOKE,
    Permission.API_KEYS_READ,
    Permission.API_KEYS_CREATE,
    Permission.API_KEYS_REVOKE,
}
_OWNER = _ADMIN | {
    Permission.ADMINS_GRANT,
    Permission.ADMINS_REVOKE,
    Permission.OWNERSHIP_TRANSFER,
    Permission.ORGANIZATION_LIFECYCLE,
    Permission.INVITATIONS_CREATE_ADMIN,
}

ROLE_PERMISSIONS: Mapping[str, frozenset[Permission]] = MappingProxyType(
    {Role.MEMBER: _MEMBER, Role.ADMIN: _ADMIN, Role.OWNER: _OWNER}
)
"""Each built-in role → its permissions (SPEC §11's table, column by column)."""

ALL_PERMISSIONS: frozenset[Permission] = frozenset(Permission)
"""What a platform administrator holds in every organization."""

GRANTABLE: frozenset[Permission] = _OWNER
"""What an API key may carry: permissions some role holds (never `organization:suspend`)."""

READS: frozenset[Permission] = frozenset(
    {
        Permission.ORGANIZATION_READ,
        Permission.MEMBERS_READ,
        Permission.ADMINS_READ,
        Permission.OWNER_READ,
        Permission.EVENTS_READ,
        Permission.INVITATIONS_READ,
        Permission.API_KEYS_READ,
    }
)
"""Permissions that only read (a suspended organization still admits them to platform admins)."""


def role_permissions(role: str | None) -> frozenset[Permission]:
    """The permissions of a role (none for no role)."""
    return ROLE_PERMISSIONS.get(role, frozenset()) if role is not None else frozenset()


def sorted_permissions(permissions: frozenset[Permission]) -> list[Permission]:
    """Catalog order (the order of the table), for stable answers."""
    return [p for p in Permission if p in permissions]
