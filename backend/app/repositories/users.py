"""Users: base rows plus profile, credential, status, suspension, archive and platform-admin facts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    OrganizationArchive,
    OrganizationMember,
    OrganizationSuspension,
    PlatformAdminGrant,
    User,
    UserActiveStatus,
    UserArchive,
    UserLoginPassword,
    UserProfile,
    UserSuspension,
)
from app.repositories.facts import append, latest_stmt

ACTIVE, INACTIVE, SUSPENDED, ARCHIVED = "active", "inactive", "suspended", "archived"


def user_status(active_kind: str | None, suspension_kind: str | None, archive_kind: str | None) -> str:
    """Most severe first: archived > suspended > inactive > active (absent facts: active)."""
    if archive_kind == "archived":
        return ARCHIVED
    if suspension_kind == "suspended":
        return SUSPENDED
    if active_kind == "deactivated":
        return INACTIVE
    return ACTIVE


@dataclass(frozen=True, slots=True)
class UserState:
    id: uuid.UUID
    created_at: datetime
    email: str | None
    display_name: str | None
    bio: str | None
    avatar_url: str | None
    status: str
    is_platform_admin: bool
    # The three independent facts behind `status` (a user can be deactivated and suspended at once).
    deactivated: bool = False
    suspended: bool = False
    archived: bool = False

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE


def latest_kind(model: Any, key: dict[str, Any], as_of: datetime | None = None) -> ColumnElement[Any]:
    """`(SELECT kind FROM <fact> WHERE key … ORDER BY id DESC LIMIT 1)` as a scalar subquery."""
    return latest_stmt(model, key, as_of).with_only_columns(model.kind).scalar_subquery()


def latest_column(
    model: Any, column: str, key: dict[str, Any], as_of: datetime | None = None
) -> ColumnElement[Any]:
    return latest_stmt(model, key, as_of).with_only_columns(getattr(model, column)).scalar_subquery()


def status_columns(user_id: Any) -> list[ColumnElement[Any]]:
    """The three facts that make a user's status, plus the platform-admin grant, as columns."""
    key = {"user_id": user_id}
    return [
        latest_kind(UserActiveStatus, key).label("active_kind"),
        latest_kind(UserSuspension, key).label("suspension_kind"),
        latest_kind(UserArchive, key).label("archive_kind"),
        latest_kind(PlatformAdminGrant, key).label("platform_admin_kind"),
    ]


async def create_user(db: AsyncSession, *, user_id: uuid.UUID, created_at: datetime) -> None:
    db.add(User(id=user_id, created_at=created_at))
    await db.flush()


async def lock_user(db: AsyncSession, user_id: uuid.UUID) -> bool:
    """Lock the user's base row for the rest of the transaction; False when no such user."""
    found = await db.execute(select(User.id).where(User.id == user_id).with_for_update())
    return found.scalar_one_or_none() is not None


async def get_user_state(db: AsyncSession, user_id: uuid.UUID) -> UserState | None:
    """The user's current state, composed in one query."""
    key = {"user_id": user_id}
    stmt = select(
        User.id,
        User.created_at,
        latest_column(UserLoginPassword, "email", key).label("email"),
        latest_column(UserProfile, "display_name", key).label("display_name"),
        latest_column(UserProfile, "bio", key).label("bio"),
        latest_column(UserProfile, "avatar_url", key).label("avatar_url"),
        *status_columns(user_id),
    ).where(User.id == user_id)
    row = (await db.execute(stmt)).one_or_none()
    if row is None:
        return None
    return UserState(
        id=row.id,
        created_at=row.created_at,
        email=row.email,
        display_name=row.display_name,
        bio=row.bio,
        avatar_url=row.avatar_url,
        status=user_status(row.active_kind, row.suspension_kind, row.archive_kind),
        is_platform_admin=row.platform_admin_kind == "granted",
        deactivated=row.active_kind == "deactivated",
        suspended=row.suspension_kind == "suspended",
        archived=row.archive_kind == "archived",
    )


@dataclass(frozen=True, slots=True)
class Credential:
    user_id: uuid.UUID
    email: str
    password_hash: str


async def lock_email(db: AsyncSession, email: str) -> None:
    """Serialize every claim on one (normalized) email until the transaction ends."""
    await db.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"email:{email}"})


async def find_credential_by_email(db: AsyncSession, email: str) -> Credential | None:
    """The user whose *current* credential has this email (an older credential does not count)."""
    candidates = (
        select(UserLoginPassword.user_id)
        .where(UserLoginPassword.email == email)
        .distinct()
        .subquery()
    )
    current = (
        latest_stmt(UserLoginPassword, {"user_id": candidates.c.user_id})
        .subquery()
        .lateral()
    )
    stmt = (
        select(current.c.user_id, current.c.email, current.c.password_hash)
        .select_from(candidates)
        .join(current, true())
        .where(current.c.email == email)
        .limit(1)
    )
    row = (await db.execute(stmt)).one_or_none()
    return Credential(row.user_id, row.email, row.password_hash) if row else None


@dataclass(frozen=True, slots=True)
class LoginCandidate:
    """The current credential for an email and its user's status, for the login check."""

    user_id: uuid.UUID
    password_hash: str
    status: str


async def find_login(db: AsyncSession, email: str) -> LoginCandidate | None:
    """`find_credential_by_email` plus the user's status, in one query (login costs the same
    round trips whether the account is active, inactive or unknown)."""
    candidates = (
        select(UserLoginPassword.user_id)
        .where(UserLoginPassword.email == email)
        .distinct()
        .subquery()
    )
    current = latest_stmt(UserLoginPassword, {"user_id": candidates.c.user_id}).subquery().lateral()
    stmt = (
        select(current.c.user_id, current.c.password_hash, *status_columns(current.c.user_id))
        .select_from(candidates)
        .join(current, true())
        .where(current.c.email == email)
        .limit(1)
    )
    row = (await db.execute(stmt)).one_or_none()
    if row is None:
        return None
    return LoginCandidate(
        row.user_id, row.password_hash, user_status(row.active_kind, row.suspension_kind, row.archive_kind)
    )


async def shares_organization(db: AsyncSession, user_id: uuid.UUID, other_id: uuid.UUID) -> bool:
    """Are both users current members of one organization that is neither suspended nor archived?

    Walks the first user's organizations (index `ix_organization_members_by_user`) and probes,
    per organization, the latest membership fact of each user and the organization's status.
    """
    orgs = (
        select(OrganizationMember.organization_id)
        .where(OrganizationMember.user_id == user_id)
        .distinct()
        .subquery()
    )
    org_id = orgs.c.organization_id
    stmt = (
        select(org_id)
        .where(
            latest_kind(OrganizationMember, {"organization_id": org_id, "user_id": user_id}) == "added",
            latest_kind(OrganizationMember, {"organization_id": org_id, "user_id": other_id}) == "added",
            func.coalesce(latest_kind(OrganizationSuspension, {"organization_id": org_id}), "") != "suspended",
            func.coalesce(latest_kind(OrganizationArchive, {"organization_id": org_id}), "") != "archived",
        )
        .limit(1)
    )
    return (await db.execute(stmt)).first() is not None


async def get_credential(db: AsyncSession, user_id: uuid.UUID) -> Credential | None:
    stmt = latest_stmt(UserLoginPassword, {"user_id": user_id})
    row = (await db.execute(stmt)).scalar_one_or_none()
    return Credential(row.user_id, row.email, row.password_hash) if row else None


async def add_credential(
    db: AsyncSession, *, user_id: uuid.UUID, email: str, password_hash: str, at: datetime, actor_id: uuid.UUID | None
) -> None:
    await append(db, UserLoginPassword, occurred_at=at, actor_id=actor_id, user_id=user_id, email=email, password_hash=password_hash)


async def add_profile(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    display_name: str,
    bio: str | None,
    avatar_url: str | None,
    at: datetime,
    actor_id: uuid.UUID | None,
) -> None:
    await append(
        db, UserProfile, occurred_at=at, actor_id=actor_id, user_id=user_id,
        display_name=display_name, bio=bio, avatar_url=avatar_url,
    )


STATUS_FACTS: dict[str, type[UserActiveStatus | UserSuspension | UserArchive]] = {
    "activated": UserActiveStatus,
    "deactivated": UserActiveStatus,
    "suspended": UserSuspension,
    "lifted": UserSuspension,
    "archived": UserArchive,
    "restored": UserArchive,
}


async def add_status_event(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    kind: str,
    at: datetime,
    actor_id: uuid.UUID | None,
    reason: str | None = None,
) -> None:
    """Append one status fact: activated/deactivated, suspended/lifted, archived/restored."""
    model = STATUS_FACTS[kind]
    values: dict[str, Any] = {"user_id": user_id, "kind": kind}
    if model is UserSuspension:
        values["reason"] = reason
    await append(db, model, occurred_at=at, actor_id=actor_id, **values)


async def set_platform_admin(
    db: AsyncSession, *, user_id: uuid.UUID, granted: bool, at: datetime, actor_id: uuid.UUID | None
) -> None:
    await append(
        db, PlatformAdminGrant, occurred_at=at, actor_id=actor_id, user_id=user_id,
        kind="granted" if granted else "revoked",
    )
