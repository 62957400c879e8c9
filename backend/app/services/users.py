"""User rules: accounts, who sees whom, profile, status (platform admins), superusers.

The password and login-email changes, which need the current password: `services/credentials.py`.

Visibility: a user sees themself in full (with email); platform admins see everyone in full;
users who share a current organization (neither suspended nor archived) see each other's public
profile (no email); anyone else gets 404 — never a hint that the user exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.security import passwords
from app.domain.errors import (
    CannotChangeOwnStatus,
    EmailAlreadyRegistered,
    ExistingUserNeedsPromote,
    NotPlatformAdmin,
    NotYourself,
    PasswordRequired,
    PlatformAdminRequired,
    UserNotFound,
)
from app.domain.lifecycle import LIFECYCLE, Transition
from app.domain.sessions import Principal
from app.domain.users import UserState
from app.repositories import users as users_repo
from app.services.emails import check_email
from app.services.password_policy import check_new_password
from app.services.sessions import end_sessions

# ------------------------------------------------------------------------------------ helpers


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Where a request came from (recorded with sessions and login attempts)."""

    ip_address: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class UserView:
    user: UserState
    full: bool  # with email: the user themself or a platform admin


async def create_account(
    db: AsyncSession,
    *,
    email: str,
    password_hash: str,
    display_name: str,
    now: datetime,
    actor_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A new user with a credential and a profile. `email` is already normalized.

    The email lock serializes every claim on one address until commit, and the check runs inside
    it, so two concurrent registrations of one email cannot both pass (409 for the second).
    """
    await users_repo.lock_email(db, email)
    if await users_repo.find_credential_by_email(db, email) is not None:
        raise EmailAlreadyRegistered(pointer="/body/email")
    user_id = uuid.uuid4()
    await users_repo.create_user(db, user_id=user_id, created_at=now)
    await users_repo.add_credential(
        db, user_id=user_id, email=email, password_hash=password_hash, at=now, actor_id=actor_id or user_id
    )
    await users_repo.add_profile(
        db, user_id=user_id, display_name=display_name, bio=None, avatar_url=None, at=now, actor_id=actor_id or user_id
    )
    return user_id


async def user_state(db: AsyncSession, user_id: uuid.UUID) -> UserState:
    """The user's current state; 404 `user_not_found` when there is no such user."""
    user = await users_repo.get_user_state(db, user_id)
    if user is None:
        raise UserNotFound()
    return user


async def _can_see(db: AsyncSession, principal: Principal, user_id: uuid.UUID) -> bool | None:
    """True: in full; False: public profile; None: not at all."""
    if principal.user_id == user_id or principal.is_platform_admin:
        return True
    if await users_repo.shares_organization(db, principal.user_id, user_id):
        return False
    return None


async def require_self(db: AsyncSession, principal: Principal, user_id: uuid.UUID) -> None:
    """Only the user themself: 403 for those who may see the user, 404 for everyone else."""
    if principal.user_id == user_id:
        return
    if await _can_see(db, principal, user_id) is None:
        raise UserNotFound()
    if await users_repo.get_user_state(db, user_id) is None:
        raise UserNotFound()
    raise NotYourself()


# -------------------------------------------------------------------------------------- reads


async def get_user(db: AsyncSession, *, principal: Principal, user_id: uuid.UUID) -> UserView:
    full = await _can_see(db, principal, user_id)
    if full is None:
        raise UserNotFound()
    return UserView(await user_state(db, user_id), full)


# ------------------------------------------------------------------------ profile and password


async def update_profile(
    db: AsyncSession, *, principal: Principal, user_id: uuid.UUID, changes: dict[str, Any], now: datetime
) -> UserState:
    """Apply the fields present in `changes` (display_name, bio, avatar_url; None clears bio or
    avatar_url). One new profile fact, only when something changes."""
    await require_self(db, principal, user_id)
    await users_repo.lock_user(db, user_id)
    user = await user_state(db, user_id)
    current = {"display_name": user.display_name or "", "bio": user.bio, "avatar_url": user.avatar_url}
    wanted = {**current, **changes}
    if wanted != current:
        await users_repo.add_profile(db, user_id=user_id, at=now, actor_id=principal.user_id, **wanted)
        user = await user_state(db, user_id)
    return user


# ------------------------------------------------------------------- status (platform admins)


async def change_status(
    db: AsyncSession,
    settings: Settings,
    *,
    principal: Principal,
    user_id: uuid.UUID,
    transition: Transition,
    reason: str | None = None,
    now: datetime,
) -> UserState:
    """activate | deactivate | suspend | unsuspend | archive | restore (`domain.lifecycle`) —
    platform admins only; 409 when the transition would change nothing.

    Under the user's lock: the status fact, and the end of every session the user still has. A
    deactivated, suspended or archived user's tokens are refused at once anyway (every request
    re-reads the status); ending the sessions makes sure reactivation revives none of them. It is
    done on reactivation too, for a session a login may have opened while the change was racing.
    """
    move = LIFECYCLE[transition]
    if not principal.is_platform_admin:
        if await _can_see(db, principal, user_id) is None or await users_repo.get_user_state(db, user_id) is None:
            raise UserNotFound()
        raise PlatformAdminRequired()
    if move.locks_out and user_id == principal.user_id:
        raise CannotChangeOwnStatus()
    if not await users_repo.lock_user(db, user_id):
        raise UserNotFound()
    user = await user_state(db, user_id)
    if move.changes_nothing(user.lifecycle):
        raise move.user_refusal()
    await users_repo.add_status_event(
        db, user_id=user_id, kind=move.fact, at=now, actor_id=principal.user_id, reason=reason
    )
    await end_sessions(db, settings, user_id=user_id, reason=move.session_reason, now=now, actor_id=principal.user_id)
    return await user_state(db, user_id)


# ------------------------------------------------------------------------------- superusers


@dataclass(frozen=True, slots=True)
class SuperuserResult:
    user_id: uuid.UUID
    email: str
    created: bool
    promoted: bool  # False: was a platform administrator already


async def create_or_promote_superuser(
    db: AsyncSession,
    settings: Settings,
    *,
    email: str,
    password: str | None,
    display_name: str,
    now: datetime,
    promote: bool = False,
) -> SuperuserResult:
    """Create a platform administrator; with `promote`, make the existing user with this email one.

    An existing email is refused unless `promote` is set: anyone may register any address through
    the API before the operator runs the command, so promoting silently would hand the platform to
    whoever registered first. Promoting never changes the password (the one given is not used).
    """
    email = check_email(email)
    await users_repo.lock_email(db, email)
    existing = await users_repo.find_credential_by_email(db, email)
    if existing is not None:
        if not promote:
            raise ExistingUserNeedsPromote()
        user = await user_state(db, existing.user_id)
        if not user.is_platform_admin:
            await users_repo.set_platform_admin(db, user_id=user.id, granted=True, at=now, actor_id=None)
        return SuperuserResult(user.id, email, created=False, promoted=not user.is_platform_admin)
    if password is None:
        raise PasswordRequired()
    normalized = check_new_password(password, email=email)
    password_hash = await passwords(settings).hash(normalized)
    user_id = await create_account(db, email=email, password_hash=password_hash, display_name=display_name, now=now)
    await users_repo.set_platform_admin(db, user_id=user_id, granted=True, at=now, actor_id=None)
    return SuperuserResult(user_id, email, created=True, promoted=True)


async def demote_superuser(db: AsyncSession, *, email: str, now: datetime) -> uuid.UUID:
    """Take the platform-administrator grant away from the user with this email (a revoke fact)."""
    email = check_email(email)
    await users_repo.lock_email(db, email)
    existing = await users_repo.find_credential_by_email(db, email)
    if existing is None:
        raise UserNotFound(pointer="/email")
    user = await user_state(db, existing.user_id)
    if not user.is_platform_admin:
        raise NotPlatformAdmin()
    await users_repo.set_platform_admin(db, user_id=user.id, granted=False, at=now, actor_id=None)
    return user.id
