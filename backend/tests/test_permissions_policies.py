"""services/policies.py on its own: each policy function is one row of SPEC §5's table.

Pure functions, so every role × row is checked in microseconds; test_permissions_table.py checks
the same table through HTTP on the real database.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest

from app.core.errors import AppError
from app.services import policies
from app.services.policies import Action, OrgContext

ROLES = ("member", "admin", "owner", "platform_admin")

# (policy, member, admin, owner, platform admin) — SPEC §5
ROWS = [
    (policies.can_read_org, True, True, True, True),
    (policies.can_update_profile, False, True, True, True),
    (policies.can_add_member, False, True, True, True),
    (policies.can_manage_admins, False, False, True, True),
    (policies.can_transfer_ownership, False, False, True, True),
    (policies.can_change_lifecycle, False, False, True, True),
    (policies.can_suspend, False, False, False, True),
    (policies.can_read_history, False, True, True, True),
]

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
        role=None if role == "platform_admin" else role,
        is_platform_admin=role == "platform_admin",
        status=status,
        owner_id=None,
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("policy", "role", "allowed"),
    [
        pytest.param(row[0], role, row[1 + i], id=f"{row[0].__name__}-{role}")
        for row in ROWS
        for i, role in enumerate(ROLES)
    ],
)
def test_policy_row(policy, role: str, allowed: bool) -> None:
    assert policy(ctx(role)) is allowed


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
    assert not any(row[0](nobody) for row in ROWS)
    assert not policies.can_see(nobody)


# (status, action, role) → expected error code or None
STATUS_RULES = [
    ("suspended", Action.READ_ORG, "member", None),
    ("suspended", Action.READ, "owner", "organization_suspended"),
    ("suspended", Action.READ, "platform_admin", None),
    ("suspended", Action.ARCHIVE, "owner", "organization_suspended"),
    ("suspended", Action.ARCHIVE, "platform_admin", None),
    ("suspended", Action.ADD_MEMBER, "platform_admin", "organization_suspended"),
    ("suspended", Action.UNSUSPEND, "platform_admin", None),
    ("inactive", Action.ADD_MEMBER, "owner", "organization_inactive"),
    ("inactive", Action.ADD_MEMBER, "platform_admin", "organization_inactive"),
    ("inactive", Action.ADD_MEMBER, "member", "forbidden"),  # permission before read-only
    ("inactive", Action.ACTIVATE, "owner", None),
    ("inactive", Action.ARCHIVE, "owner", None),
    ("inactive", Action.READ, "member", None),
    ("archived", Action.RESTORE, "owner", None),
    ("archived", Action.READ, "owner", None),
    ("archived", Action.ADD_MEMBER, "owner", "organization_archived"),
    ("archived", Action.ACTIVATE, "platform_admin", "organization_archived"),
]


@pytest.mark.parametrize(("status", "action", "role", "error"), STATUS_RULES, ids=lambda v: str(v))
def test_status_rule(status: str, action: Action, role: str, error: str | None) -> None:
    c = ctx(role, status)
    allowed = {
        Action.READ_ORG: policies.can_read_org,
        Action.READ: policies.can_read_org,
        Action.ADD_MEMBER: policies.can_add_member,
        Action.ACTIVATE: policies.can_change_lifecycle,
        Action.ARCHIVE: policies.can_change_lifecycle,
        Action.RESTORE: policies.can_change_lifecycle,
        Action.UNSUSPEND: policies.can_suspend,
    }[action](c)
    if error is None:
        policies.require(c, action, allowed)
    else:
        with pytest.raises(AppError) as raised:
            policies.require(c, action, allowed)
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
