"""Users: base rows plus profile, credential, status, suspension, archive and platform-admin facts."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.users import Credential, LoginCandidate, UserState
from app.domain.vocabulary import ArchiveKind, GrantKind, LifecycleKind, MemberKind, SuspensionKind
from app.models import (
    OrganizationArchive,
    OrganizationMember,
    OrganizationSuspension,
    PlatformAdminGrant,
    User,
    UserLoginPassword,
    UserProfile,
)
from app.repositories.email_tokens import verified_column
from app.repositories.facts import append, latest_column, latest_kind, latest_stmt
from app.repositories.lifecycle import USER_LIFECYCLE
from app.repositories.locks import advisory_xact_lock


def status_columns(user_id: Any) -> list[ColumnElement[Any]]:
    """The three facts that make a user's status, plus the platform-admin grant, as columns."""
    return [
        *USER_LIFECYCLE.columns(user_id),
        latest_kind(PlatformAdminGrant, {"user_id": user_id}).label("platform_admin_kind"),
    ]


async def create_user(db: AsyncSession, *, user_id: uuid.UUID, created_at: datetime) -> None:
    db.add(User(id=user_id, created_at=created_at))
    await db.flush()


async def lock_user(db: AsyncSession, user_id: uuid.UUID) -> bool:
    """Lock the user's base row for the rest of the transaction; False when no such user."""
    found = await db.execute(select(User.id).where(User.id == user_id).with_for_update())
    return found.scalar_one_or_none() is not None


@cache
def _user_state_statement() -> Select[Any]:
    user_id = bindparam("user_id", type_=PG_UUID(as_uuid=True))
    key = {"user_id": user_id}
    profile = latest_stmt(UserProfile, key).subquery("profile").lateral()
    credential = latest_stmt(UserLoginPassword, key).subquery("credential").lateral()
    return (
        select(
            User.id,
            User.created_at,
            credential.c.email,
            profile.c.display_name,
            profile.c.bio,
            profile.c.avatar_url,
            *status_columns(user_id),
            verified_column(user_id, credential.c.email).label("email_verified"),
        )
        .select_from(User)
        .outerjoin(profile, true())
        .outerjoin(credential, true())
        .where(User.id == user_id)
    )


async def get_user_state(db: AsyncSession, user_id: uuid.UUID) -> UserState | None:
    """The user's current state, composed in one query (built once, run with the id bound)."""
    row = (await db.execute(_user_state_statement(), {"user_id": user_id})).one_or_none()
    return user_state_from(row, user_id=row.id, created_at=row.created_at) if row else None


def profile_columns(user_id: Any) -> list[ColumnElement[Any]]:
    """The user's creation time, email and profile as point-lookup columns, to compose into a larger
    statement (the principal query of `GET /auth/me`); with `status_columns`, `user_state_from`
    makes a `UserState` of the row."""
    key = {"user_id": user_id}
    email = latest_column(UserLoginPassword, "email", key)
    return [
        select(User.created_at).where(User.id == user_id).scalar_subquery().label("user_created_at"),
        email.label("email"),
        verified_column(user_id, email).label("email_verified"),
        latest_column(UserProfile, "display_name", key).label("display_name"),
        latest_column(UserProfile, "bio", key).label("bio"),
        latest_column(UserProfile, "avatar_url", key).label("avatar_url"),
    ]


def user_state_from(row: Any, *, user_id: uuid.UUID, created_at: datetime) -> UserState:
    """A `UserState` from a row with the profile columns and `status_columns`."""
    return UserState(
        id=user_id,
        created_at=created_at,
        email=row.email,
        display_name=row.display_name,
        bio=row.bio,
        avatar_url=row.avatar_url,
        is_platform_admin=row.platform_admin_kind == GrantKind.GRANTED,
        lifecycle=USER_LIFECYCLE.flags_from(row),
        email_verified=bool(row.email_verified),
    )


async def lock_email(db: AsyncSession, email: str) -> None:
    """Serialize every claim on one (normalized) email until the transaction ends."""
    await advisory_xact_lock(db, "email", email)


async def find_credential_by_email(db: AsyncSession, email: str) -> Credential | None:
    """The user whose *current* credential has this email (an older credential does not count)."""
    candidates = select(UserLoginPassword.user_id).where(UserLoginPassword.email == email).distinct().subquery()
    current = latest_stmt(UserLoginPassword, {"user_id": candidates.c.user_id}).subquery().lateral()
    stmt = (
        select(current.c.user_id, current.c.email, current.c.password_hash)
        .select_from(candidates)
        .join(current, true())
        .where(current.c.email == email)
        .limit(1)
    )
    row = (await db.execute(stmt)).one_or_none()
    return Credential(row.user_id, row.email, row.password_hash) if row else None


async def find_login(db: AsyncSession, email: str) -> LoginCandidate | None:
    """`find_credential_by_email` plus the user's status, in one query (login costs the same
    round trips whether the account is active, inactive or unknown)."""
    candidates = select(UserLoginPassword.user_id).where(UserLoginPassword.email == email).distinct().subquery()
    current = latest_stmt(UserLoginPassword, {"user_id": candidates.c.user_id}).subquery().lateral()
    stmt = (
        select(
            current.c.user_id,
            current.c.password_hash,
            *status_columns(current.c.user_id),
            verified_column(current.c.user_id, current.c.email).label("email_verified"),
        )
        .select_from(candidates)
        .join(current, true())
        .where(current.c.email == email)
        .limit(1)
    )
    row = (await db.execute(stmt)).one_or_none()
    if row is None:
        return None
    status = USER_LIFECYCLE.flags_from(row).status
    return LoginCandidate(row.user_id, row.password_hash, status, bool(row.email_verified))


async def shares_organization(db: AsyncSession, user_id: uuid.UUID, other_id: uuid.UUID) -> bool:
    """Are both users current members of one organization that is neither suspended nor archived?

    Walks the first user's organizations (index `ix_organization_members_by_user`) and probes,
    per organization, the latest membership fact of each user and the organization's status.
    """
    orgs = select(OrganizationMember.organization_id).where(OrganizationMember.user_id == user_id).distinct().subquery()
    org_id = orgs.c.organization_id
    stmt = (
        select(org_id)
        .where(
            latest_kind(OrganizationMember, {"organization_id": org_id, "user_id": user_id}) == MemberKind.ADDED,
            latest_kind(OrganizationMember, {"organization_id": org_id, "user_id": other_id}) == MemberKind.ADDED,
            func.coalesce(latest_kind(OrganizationSuspension, {"organization_id": org_id}), "")
            != SuspensionKind.SUSPENDED,
            func.coalesce(latest_kind(OrganizationArchive, {"organization_id": org_id}), "") != ArchiveKind.ARCHIVED,
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
    await append(
        db,
        UserLoginPassword,
        occurred_at=at,
        actor_id=actor_id,
        user_id=user_id,
        email=email,
        password_hash=password_hash,
    )


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
        db,
        UserProfile,
        occurred_at=at,
        actor_id=actor_id,
        user_id=user_id,
        display_name=display_name,
        bio=bio,
        avatar_url=avatar_url,
    )


async def add_status_event(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    kind: LifecycleKind,
    at: datetime,
    actor_id: uuid.UUID | None,
    reason: str | None = None,
) -> None:
    """Append one status fact: activated/deactivated, suspended/lifted, archived/restored."""
    await USER_LIFECYCLE.append(db, subject_id=user_id, kind=kind, at=at, actor_id=actor_id, reason=reason)


async def set_platform_admin(
    db: AsyncSession, *, user_id: uuid.UUID, granted: bool, at: datetime, actor_id: uuid.UUID | None
) -> None:
    await append(
        db,
        PlatformAdminGrant,
        occurred_at=at,
        actor_id=actor_id,
        user_id=user_id,
        kind=GrantKind.GRANTED if granted else GrantKind.REVOKED,
    )
