"""The roster of one organization — members, admins, owner — now or as of an instant: one statement
each, the loose-index-scan walk of `repositories/facts.py` fused with names and roles."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import DateTime, Select, bindparam, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import Prepared, fetch_rows
from app.domain.organizations import AdminEntry, MemberEntry, OwnerEntry, role_of
from app.domain.vocabulary import GrantKind, MemberKind, Role
from app.models import OrganizationAdmin, OrganizationMember, OrganizationOwner, UserProfile
from app.repositories.facts import latest_column, latest_kind, latest_per_key_subquery, latest_stmt, page_params


def _display_name(user_id: Any) -> Any:
    # The person's current name, also for past state: names are not organization facts.
    return latest_column(UserProfile, "display_name", {"user_id": user_id}).label("display_name")


def _org_and_instant(as_of: bool) -> tuple[Any, Any]:
    org_id = bindparam("organization_id", type_=UUID(as_uuid=True))
    when = bindparam("as_of", type_=DateTime(timezone=True)) if as_of else None
    return org_id, when


@cache
def _members_statement(*, as_of: bool) -> Select[Any]:
    org_id, when = _org_and_instant(as_of)
    org_key = {"organization_id": org_id}
    page = latest_per_key_subquery(OrganizationMember, ["organization_id"], "user_id", as_of=as_of)
    user_id = page.c.key
    return select(
        user_id.label("user_id"),
        page.c.occurred_at.label("added_at"),
        _display_name(user_id),
        latest_kind(OrganizationAdmin, {**org_key, "user_id": user_id}, when).label("admin_kind"),
        latest_column(OrganizationOwner, "user_id", org_key, when).label("owner_id"),
    ).order_by(user_id)


@cache
def _members_prepared(*, as_of: bool) -> Prepared:
    return Prepared(_members_statement(as_of=as_of))


async def members_page(
    db: AsyncSession,
    organization_id: uuid.UUID,
    *,
    after: uuid.UUID | None = None,
    limit: int = 50,
    as_of: datetime | None = None,
) -> list[MemberEntry]:
    """Members (now, or as of `as_of`) ascending by user id, with name and role: one statement.

    The loose-index-scan walk of `latest_per_key_subquery`, each row fused with its user's
    display name and admin grant (as of the same instant) and the organization's owner then.
    """
    stmt = _members_prepared(as_of=as_of is not None)
    params = page_params(
        {"organization_id": organization_id}, state=MemberKind.ADDED, after=after, limit=limit, as_of=as_of
    )
    return [
        MemberEntry(
            user_id=row.user_id,
            display_name=row.display_name,
            role=role_of(
                row.user_id, is_member=True, is_admin=row.admin_kind == GrantKind.GRANTED, owner_id=row.owner_id
            )
            or Role.MEMBER,
            added_at=row.added_at,
        )
        for row in await fetch_rows(db, stmt, params)
    ]


@cache
def _admins_statement(*, as_of: bool) -> Select[Any]:
    page = latest_per_key_subquery(OrganizationAdmin, ["organization_id"], "user_id", as_of=as_of)
    user_id = page.c.key
    return select(user_id.label("user_id"), page.c.occurred_at.label("granted_at"), _display_name(user_id)).order_by(
        user_id
    )


async def admins_page(
    db: AsyncSession,
    organization_id: uuid.UUID,
    *,
    after: uuid.UUID | None = None,
    limit: int = 50,
    as_of: datetime | None = None,
) -> list[AdminEntry]:
    """Users holding an admin grant (now, or as of `as_of`) ascending by user id: one statement."""
    stmt = _admins_statement(as_of=as_of is not None)
    params = page_params(
        {"organization_id": organization_id}, state=GrantKind.GRANTED, after=after, limit=limit, as_of=as_of
    )
    return [
        AdminEntry(user_id=row.user_id, display_name=row.display_name, granted_at=row.granted_at)
        for row in (await db.execute(stmt, params)).all()
    ]


@cache
def _owner_statement(*, as_of: bool) -> Select[Any]:
    org_id, when = _org_and_instant(as_of)
    current = (
        latest_stmt(OrganizationOwner, {"organization_id": org_id}, when)
        .with_only_columns(OrganizationOwner.user_id, OrganizationOwner.occurred_at)
        .subquery("current_owner")
    )
    return select(current.c.user_id, current.c.occurred_at, _display_name(current.c.user_id))


async def owner_at(db: AsyncSession, organization_id: uuid.UUID, *, as_of: datetime | None = None) -> OwnerEntry | None:
    """The owner (now, or as of `as_of`) and since when: one statement; None before the first."""
    params: dict[str, Any] = {"organization_id": organization_id}
    if as_of is not None:
        params["as_of"] = as_of
    row = (await db.execute(_owner_statement(as_of=as_of is not None), params)).one_or_none()
    return OwnerEntry(user_id=row.user_id, display_name=row.display_name, since=row.occurred_at) if row else None
