"""The principal read model: who is calling, composed in ONE query per request.

A request's caller is a session of a user; the query confirms the session exists, belongs to the
user and is not revoked, reads its last rotation (idle timeout, active organization), the user's
lifecycle facts and platform-admin grant — and, on an org-scoped route, the caller's standing in
that organization (its existence, owner and status; the caller's membership and admin grant).
The API-key principal (`repositories/api_keys.py`) shares the organization's side of it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, bindparam, exists, select
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import Prepared, fetch_rows
from app.domain.organizations import role_of
from app.domain.sessions import OrgAccess, Principal
from app.domain.vocabulary import GrantKind, MemberKind, Role
from app.models import (
    Organization,
    OrganizationAdmin,
    OrganizationMember,
    OrganizationOwner,
    Session,
    SessionRevocation,
    SessionRotation,
)
from app.repositories.facts import latest_column, latest_kind
from app.repositories.lifecycle import ORGANIZATION_LIFECYCLE, USER_LIFECYCLE
from app.repositories.users import profile_columns, status_columns, user_state_from


def org_standing_columns(org_id: Any) -> list[Any]:
    """The organization's side of a caller's standing: exists, owner, the three status facts.
    Shared by the user principal query and the API-key one (`repositories/api_keys.py`)."""
    return [
        exists().where(Organization.id == org_id).label("org_exists"),
        latest_column(OrganizationOwner, "user_id", {"organization_id": org_id}).label("owner_id"),
        *ORGANIZATION_LIFECYCLE.columns(org_id, prefix="org_"),
    ]


def org_access(row: Any, organization_id: uuid.UUID, *, role: Role | None) -> OrgAccess:
    """`OrgAccess` from a row with `org_standing_columns`, for a caller with `role` there."""
    return OrgAccess(
        organization_id=organization_id,
        exists=row.org_exists,
        role=role,
        owner_id=row.owner_id,
        status=ORGANIZATION_LIFECYCLE.flags_from(row, prefix="org_").status,
    )


def _org_columns(org_id: Any, user_id: Any) -> list[Any]:
    member_key = {"organization_id": org_id, "user_id": user_id}
    return [
        *org_standing_columns(org_id),
        latest_kind(OrganizationMember, member_key).label("member_kind"),
        latest_kind(OrganizationAdmin, member_key).label("admin_kind"),
    ]


def _principal_statement(*, in_organization: bool, with_user: bool = False) -> Select[Any]:
    """Built once per shape with bind parameters: constructing this many subqueries costs more
    Python than the query costs PostgreSQL, and a constant statement also keeps its compiled
    form and asyncpg's prepared statement warm. One column (or one LATERAL) per fact: a new
    fact the guard must see is one more entry here."""
    session_id = bindparam("session_id", type_=PG_UUID(as_uuid=True))
    user_id = bindparam("user_id", type_=PG_UUID(as_uuid=True))
    session_key = {"session_id": session_id}
    columns: list[Any] = [
        Session.user_id,
        Session.created_at,
        latest_column(SessionRotation, "occurred_at", session_key).label("last_rotated_at"),
        latest_column(SessionRotation, "organization_id", session_key).label("session_org"),
        exists().where(SessionRevocation.session_id == session_id).label("revoked"),
        *status_columns(user_id),
    ]
    if in_organization:
        columns += _org_columns(bindparam("organization_id", type_=PG_UUID(as_uuid=True)), user_id)
    if with_user:
        columns += profile_columns(user_id)
    return select(*columns).where(Session.id == session_id, Session.user_id == user_id)


# Run on the driver connection (`fetch_rows`): every authenticated request makes one of these.
_PRINCIPAL = Prepared(_principal_statement(in_organization=False))
_PRINCIPAL_WITH_USER = Prepared(_principal_statement(in_organization=False, with_user=True))
_PRINCIPAL_IN_ORGANIZATION = Prepared(_principal_statement(in_organization=True))


async def load_principal(
    db: AsyncSession,
    *,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    organization_id: uuid.UUID | None = None,
    with_user: bool = False,
) -> Principal | None:
    """Session liveness, user status and (optionally) the caller's role in one org, or the user's
    whole state (`with_user`): ONE query.

    Every column is an index-backed point lookup on a constant key, so the cost does not grow
    with history. None when the session does not exist or belongs to another user.
    """
    params: dict[str, Any] = {"session_id": session_id, "user_id": user_id}
    if organization_id is not None:
        stmt = _PRINCIPAL_IN_ORGANIZATION
        params["organization_id"] = organization_id
    else:
        stmt = _PRINCIPAL_WITH_USER if with_user else _PRINCIPAL
    rows = await fetch_rows(db, stmt, params)
    if not rows:
        return None
    row = rows[0]
    org = None
    if organization_id is not None:
        is_member, is_admin = row.member_kind == MemberKind.ADDED, row.admin_kind == GrantKind.GRANTED
        role = role_of(user_id, is_member=is_member, is_admin=is_admin, owner_id=row.owner_id)
        org = org_access(row, organization_id, role=role)
    return Principal(
        user_id=row.user_id,
        session_id=session_id,
        session_created_at=row.created_at,
        last_rotated_at=row.last_rotated_at,
        session_organization_id=row.session_org,
        revoked=row.revoked,
        user_status=USER_LIFECYCLE.flags_from(row).status,
        is_platform_admin=row.platform_admin_kind == GrantKind.GRANTED,
        org=org,
        user=user_state_from(row, user_id=user_id, created_at=row.user_created_at) if with_user else None,
    )
