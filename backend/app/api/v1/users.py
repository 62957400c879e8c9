"""/users/{id}: read, profile, password, and status changes by platform administrators."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.client import ClientDep
from app.api.deps import ClockDep, CurrentPrincipal, ReleasedPrincipal, SessionDep, SettingsDep, TransactionsDep
from app.core.clock import Clock
from app.core.config import Settings
from app.domain.lifecycle import Transition
from app.domain.sessions import Principal
from app.domain.users import UserState
from app.schemas.users import PasswordChange, ProfileUpdate, UserRead, UserSuspend
from app.services import credentials, users

router = APIRouter(prefix="/users", tags=["users"])


def _full(user: UserState) -> UserRead:
    return UserRead.of(user, with_email=True)


@router.get("/{user_id}", response_model=UserRead)
async def get_user(user_id: uuid.UUID, principal: CurrentPrincipal, db: SessionDep) -> UserRead:
    """Yourself and (for platform admins) anyone in full; co-members' public profile; else 404."""
    view = await users.get_user(db, principal=principal, user_id=user_id)
    return UserRead.of(view.user, with_email=view.full)


@router.patch("/{user_id}/profile", response_model=UserRead)
async def update_profile(
    user_id: uuid.UUID, body: ProfileUpdate, principal: CurrentPrincipal, db: SessionDep, clock: ClockDep
) -> UserRead:
    """Change your display name, bio or avatar URL (http/https)."""
    user = await users.update_profile(db, principal=principal, user_id=user_id, changes=body.changes(), now=clock.now())
    return _full(user)


@router.patch(
    "/{user_id}/password",
    response_model=UserRead,
    responses={
        403: {"description": "`invalid_current_password`"},
        409: {"description": "`credential_changed`: another change of the password or email won meanwhile"},
        429: {"description": "throttled like a failed login (`Retry-After`)"},
    },
)
async def change_password(
    user_id: uuid.UUID,
    body: PasswordChange,
    principal: ReleasedPrincipal,
    transactions: TransactionsDep,
    settings: SettingsDep,
    clock: ClockDep,
    client: ClientDep,
) -> Any:
    """Change your password (the current one is needed). Your other sessions end."""
    outcome = await credentials.change_password(
        transactions,
        settings,
        principal=principal,
        user_id=user_id,
        current_password=body.current_password,
        new_password=body.new_password,
        client=client,
        now=clock.now(),
    )
    return _full(outcome)


async def _status(
    transition: Transition,
    user_id: uuid.UUID,
    principal: Principal,
    db: AsyncSession,
    settings: Settings,
    clock: Clock,
    reason: str | None = None,
) -> UserRead:
    user = await users.change_status(
        db, settings, principal=principal, user_id=user_id, transition=transition, reason=reason, now=clock.now()
    )
    return _full(user)


@router.post("/{user_id}/activate", response_model=UserRead)
async def activate(
    user_id: uuid.UUID, principal: CurrentPrincipal, db: SessionDep, settings: SettingsDep, clock: ClockDep
) -> UserRead:
    """Platform admins: lift a deactivation (old sessions stay ended)."""
    return await _status(Transition.ACTIVATE, user_id, principal, db, settings, clock)


@router.post("/{user_id}/deactivate", response_model=UserRead)
async def deactivate(
    user_id: uuid.UUID, principal: CurrentPrincipal, db: SessionDep, settings: SettingsDep, clock: ClockDep
) -> UserRead:
    """Platform admins: deactivate; every token of the user stops working at once."""
    return await _status(Transition.DEACTIVATE, user_id, principal, db, settings, clock)


@router.post("/{user_id}/suspend", response_model=UserRead)
async def suspend(
    user_id: uuid.UUID,
    body: UserSuspend,
    principal: CurrentPrincipal,
    db: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> UserRead:
    """Platform admins: suspend (with a reason); every token of the user stops working at once."""
    return await _status(Transition.SUSPEND, user_id, principal, db, settings, clock, reason=body.reason)


@router.post("/{user_id}/unsuspend", response_model=UserRead)
async def unsuspend(
    user_id: uuid.UUID, principal: CurrentPrincipal, db: SessionDep, settings: SettingsDep, clock: ClockDep
) -> UserRead:
    """Platform admins: lift a suspension (old sessions stay ended)."""
    return await _status(Transition.UNSUSPEND, user_id, principal, db, settings, clock)


@router.post("/{user_id}/archive", response_model=UserRead)
async def archive(
    user_id: uuid.UUID, principal: CurrentPrincipal, db: SessionDep, settings: SettingsDep, clock: ClockDep
) -> UserRead:
    """Platform admins: archive; every token of the user stops working at once."""
    return await _status(Transition.ARCHIVE, user_id, principal, db, settings, clock)


@router.post("/{user_id}/restore", response_model=UserRead)
async def restore(
    user_id: uuid.UUID, principal: CurrentPrincipal, db: SessionDep, settings: SettingsDep, clock: ClockDep
) -> UserRead:
    """Platform admins: restore an archived user (old sessions stay ended)."""
    return await _status(Transition.RESTORE, user_id, principal, db, settings, clock)
