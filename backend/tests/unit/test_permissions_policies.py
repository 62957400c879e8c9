"""The permission catalog and services/policies.py on their own: SPEC §11's table, and SPEC §5's
table read through the catalog, role by role.

Pure data and pure functions, so every role × row is checked in microseconds;
test_permissions_table.py checks the same table through HTTP on the real database.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest

from app.core.errors import AppError
from app.domain.permissions import ALL_PERMISSIONS, GRANTABLE, ROLE_PERMISSIONS, Permission
from app.domain.vocabulary import Role, Status
from app.services import policies
from app.services.policies import PERMISSION_OF, Action, OrgContext

P = Permission
ROLES = ("member", "admin", "owner", "platform_admin")

# SPEC §11, verbatim: (permissions, member, admin, owner)
SPEC_11 = [
    ("organization:read members:read admins:read owner:read", True, True, True),
    (
        "organization:update members:add members:remove events:read invitations:read invitations:create "
        "invitations:revoke api_keys:read api_keys:create api_keys:revoke",
        False,
        True,
        True,
    ),
    (
        "admins:grant admins:revoke ownership:transfer organization:lifecycle invitations:create_admin",
        False,
        False,
        True,
    ),
]


@pytest.mark.parametrize("role", ["member", "admin", "owner"])
def test_the_catalog_is_spec_11s_table(role: str) -> None:
    column = 1 + ["member", "admin", "owner"].index(role)
    expected = {Permission(name) for row in SPEC_11 if row[column] for name in str(row[0]).split()}
    assert ROLE_PERMISSIONS[role] == expected


def test_every_permission_is_named_once_and_only_platform_admins_suspend() -> None:
    named = [name for row in SPEC_11 for name in str(row[0]).split()]
    assert len(named) == len(set(named))
    assert set(ALL_PERMISSIONS) - set(named) == {P.ORGANIZATION_SUSPEND}
    assert P.ORGANIZATION_SUSPEND not in GRANTABLE
    assert all(p.value.count(":") == 1 for p in Permission)


# SPEC §5's table read through the catalog: (row, permissions it takes, member, admin, owner, pa)
SPEC_5 = [
    (
        "read org, members, admins, owner",
        {P.ORGANIZATION_READ, P.MEMBERS_READ, P.ADMINS_READ, P.OWNER_READ},
        True,
        True,
        True,
        True,
    ),
    ("update org profile", {P.ORGANIZATION_UPDATE}, False, True, True, True),
    ("add member", {P.MEMBERS_ADD}, False, True, True, True),
    ("grant / revoke admin", {P.ADMINS_GRANT, P.ADMINS_REVOKE}, False, False, True, True),
    ("transfer ownership", {P.OWNERSHIP_TRANSFER}, False, False, True, True),
    ("deactivate / activate, archive / restore org", {P.ORGANIZATION_LIFECYCLE}, False, False, True, True),
    ("suspend / lift suspension of org", {P.ORGANIZATION_SUSPEND}, False, False, False, True),
    ("read history and past state", {P.EVENTS_READ}, False, True, True, True),
]


@pytest.mark.parametrize(
    ("permissions", "role", "allowed"),
    [pytest.param(row[1], role, row[2 + i], id=f"{row[0]}-{role}") for row in SPEC_5 for i, role in enumerate(ROLES)],
)
def test_spec_5_row_through_the_catalog(permissions: set[Permission], role: str, allowed: bool) -> None:
    c = ctx(role)
    assert all(p in c.permissions for p in permissions) is allowed
    for action, permission in PERMISSION_OF.items():
        if permission in permissions:
            if allowed:
                policies.admit(c, permission)
            else:
                with pytest.raises(AppError) as raised:
                    policies.require(c, action)
                assert raised.value.code == "forbidden"


def test_every_action_names_one_permission() -> None:
    assert set(PERMISSION_OF) == set(Action)


# can_remove_member(ctx, target_role, is_self): (target_role, is_self, member, admin, owner, pa)
REMOVALS = [
    ("member", False, False, True, True, True),  # remove a plain member
    ("member", True, True, True, True, True),  # leave (as a plain member)
    ("admin", False, False, False, True, True),  # remove an admin
    ("admin", True, True, True, True, True),  # leave (as an admin)
    ("owner", False, False, False, True, True),  # owner: a rule conflict later, not a permission
    (None, False, False, True, True, True),  # not a member: a 409 later for those who may remove
]


def ctx(role: str, status: str = "active") -> OrgContext:
    return OrgContext(
        organization_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        role=None if role == "platform_admin" else Role(role),
        is_platform_admin=role == "platform_admin",
        status=Status(status),
        owner_id=None,
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("target_role", "is_self", "role", "allowed"),
    [
        pytest.param(row[0], row[1], role, row[2 + i], id=f"{row[0]}-{'self' if row[1] else 'other'}-{role}")
        for row in REMOVALS
        for i, role in enumerate(ROLES)
    ],
)
def test_removal_row(target_role: str | None, is_self: bool, role: str, allowed: bool) -> None:
    assert policies.can_remove_member(ctx(role), target_role, is_self) is allowed


def test_nobody_without_a_role_passes_anything() -> None:
    nobody = dataclasses.replace(ctx("member"), role=None)
    assert nobody.permissions == frozenset()
    assert not policies.can_see(nobody)


# (status, action, role) → expected error code or None
STATUS_RULES = [
    ("suspended", Action.READ_ORG, "member", None),
    ("suspended", Action.READ_MEMBERS, "owner", "organization_suspended"),
    ("suspended", Action.READ_MEMBERS, "platform_admin", None),
    ("suspended", Action.ARCHIVE, "owner", "organization_suspended"),
    ("suspended", Action.ARCHIVE, "platform_admin", None),
    ("suspended", Action.ADD_MEMBER, "platform_admin", "organization_suspended"),
    ("suspended", Action.UNSUSPEND, "platform_admin", None),
    ("inactive", Action.ADD_MEMBER, "owner", "organization_inactive"),
    ("inactive", Action.ADD_MEMBER, "platform_admin", "organization_inactive"),
    ("inactive", Action.ADD_MEMBER, "member", "forbidden"),  # permission before read-only
    ("inactive", Action.ACTIVATE, "owner", None),
    ("inactive", Action.ARCHIVE, "owner", None),
    ("inactive", Action.READ_MEMBERS, "member", None),
    ("archived", Action.RESTORE, "owner", None),
    ("archived", Action.READ_MEMBERS, "owner", None),
    ("archived", Action.ADD_MEMBER, "owner", "organization_archived"),
    ("archived", Action.ACTIVATE, "platform_admin", "organization_archived"),
]


@pytest.mark.parametrize(("status", "action", "role", "error"), STATUS_RULES, ids=lambda v: str(v))
def test_status_rule(status: str, action: Action, role: str, error: str | None) -> None:
    c = ctx(role, status)
    if error is None:
        policies.require(c, action)
    else:
        with pytest.raises(AppError) as raised:
            policies.require(c, action)
        assert raised.value.code == error


@pytest.mark.parametrize(
    ("status", "role", "visible"),
    [
        ("archived", "owner", True),
        ("archived", "admin", False),
        ("archived", "member", False),
        ("archived", "platform_admin", True),
        ("suspended", "member", True),
        ("inactive", "member", True),
    ],
)
def test_visibility(status: str, role: str, visible: bool) -> None:
    assert policies.can_see(ctx(role, status)) is visible


def test_a_key_context_holds_its_own_permissions_and_names_itself() -> None:
    key_id = uuid.uuid4()
    key = dataclasses.replace(
        ctx("member"), user_id=None, role=None, api_key_id=key_id, key_permissions=frozenset({P.MEMBERS_READ})
    )
    assert key.permissions == {P.MEMBERS_READ} and key.caller_id == key_id
    owner = ctx("owner")
    assert owner.caller_id == owner.user_id
    assert policies.can_see(key) and not policies.can_see(dataclasses.replace(key, status=Status.ARCHIVED))
    with pytest.raises(AppError) as raised:
        policies.admit(dataclasses.replace(key, status=Status.SUSPENDED), P.ORGANIZATION_READ, allowed=True)
    assert raised.value.code == "organization_suspended"
