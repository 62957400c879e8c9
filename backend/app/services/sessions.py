"""Sessions: how long one lives, who is calling, and every rotation and revocation.

A session is created at login (`services/auth.py`); each refresh token is one *rotation* of it
(the latest rotation's token is the only one that works, and its organization is the session's
active organization). Refreshing and switching append a rotation; logging out, revoking a session,
changing or resetting the password, a user status change and reuse detection append a revocation.
Nothing is updated in place. Every request re-reads its session (`authenticate`), so a revocation
takes effect on the next request, not when the access token expires.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.security import (
    InvalidToken,
    encode_access_token,
    hash_refresh_token,
    new_refresh_token,
    verify_access_token,
)
from app.domain.errors import InvalidRefreshToken, NotAuthenticated, SessionNotFound
from app.domain.sessions import Principal, SessionInfo
from app.domain.vocabulary import RevocationReason, Status
from app.repositories import sessions as sessions_repo
from app.repositories.principal import load_principal
from app.services import organizations
from app.services.pages import Page, page_of

# ----------------------------------------------------------------------------------- lifetime


def session_end(settings: Settings, *, created_at: datetime, last_rotated_at: datetime | None) -> datetime:
    """When a session stops being usable: idle timeout after its last refresh, capped by its lifetime."""
    idle_end = (last_rotated_at or created_at) + timedelta(minutes=settings.session_idle_minutes)
    absolute_end = created_at + timedelta(days=settings.session_absolute_days)
    return min(idle_end, absolute_end)


def session_is_live(settings: Settings, principal: Principal, now: datetime) -> bool:
    if principal.revoked:
        return False
    return now < session_end(
        settings, created_at=principal.session_created_at, last_rotated_at=principal.last_rotated_at
    )


def sessions_cutoff(settings: Settings, now: datetime) -> datetime:
    """Sessions created before this are past their absolute lifetime: dead whatever else holds."""
    return now - timedelta(days=settings.session_absolute_days)


async def end_sessions(
    db: AsyncSession,
    settings: Settings,
    *,
    user_id: uuid.UUID,
    reason: RevocationReason,
    now: datetime,
    actor_id: uuid.UUID | None,
    keep: uuid.UUID | None = None,
) -> int:
    """Revoke every session of the user that could still be used (but `keep`); how many."""
    ended = 0
    for session_id in await sessions_repo.unrevoked_session_ids(
        db, user_id, created_after=sessions_cutoff(settings, now)
    ):
        if session_id != keep:
            await sessions_repo.revoke_session(db, session_id=session_id, reason=reason, at=now, actor_id=actor_id)
            ended += 1
    return ended


# ---------------------------------------------------------------------------- who is calling


async def authenticate(
    db: AsyncSession,
    settings: Settings,
    *,
    token: str,
    now: datetime,
    organization_id: uuid.UUID | None = None,
    with_user: bool = False,
) -> Principal:
    """Verify the access token and confirm — in one query — that its session is live and its user
    active; with `organization_id`, the same query composes the caller's standing there; with
    `with_user`, the user's whole state (`principal.user`)."""
    try:
        claims = verify_access_token(settings, token, now=now)
    except InvalidToken as exc:
        raise NotAuthenticated() from exc
    principal = await load_principal(
        db, session_id=claims.session_id, user_id=claims.user_id, organization_id=organization_id, with_user=with_user
    )
    if principal is None or principal.user_status != Status.ACTIVE or not session_is_live(settings, principal, now):
        raise NotAuthenticated()
    return dataclasses.replace(principal, token_organization_id=claims.organization_id)


# --------------------------------------------------------------------------------- rotations


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    organization_id: uuid.UUID | None
    session_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A new access token without a refresh token (switching with the access token alone)."""

    access_token: str
    expires_in: int
    organization_id: uuid.UUID | None


async def issue(
    db: AsyncSession,
    settings: Settings,
    *,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    organization_id: uuid.UUID | None,
    now: datetime,
) -> TokenPair:
    """A new rotation of the session (the previous refresh token is now used) and an access token."""
    refresh_token, token_hash = new_refresh_token()
    await sessions_repo.add_rotation(
        db, session_id=session_id, token_hash=token_hash, organization_id=organization_id, at=now, actor_id=user_id
    )
    access_token, expires_in = encode_access_token(
        settings, user_id=user_id, session_id=session_id, organization_id=organization_id, now=now
    )
    return TokenPair(access_token, refresh_token, expires_in, organization_id, session_id)


async def refresh(db: AsyncSession, settings: Settings, *, refresh_token: str, now: datetime) -> TokenPair:
    """Rotate: the presented token must be its session's newest. An older one means it leaked
    (or was replayed) — the whole session is revoked (`reuse_detected`) and the refusal commits.

    The session row is locked and the token re-read inside the lock, so two concurrent uses of
    one token cannot both succeed: the second sees the first's rotation and counts as reuse.
    The active organization is kept only while the user may still enter it.
    """
    token_hash = hash_refresh_token(refresh_token)
    found = await sessions_repo.find_rotation(db, token_hash)
    if found is None:
        raise InvalidRefreshToken()
    await sessions_repo.lock_session(db, found.session_id)
    found = await sessions_repo.find_rotation(db, token_hash)
    assert found is not None
    principal = await load_principal(db, session_id=found.session_id, user_id=found.user_id)
    if principal is None:
        raise InvalidRefreshToken()
    if not found.is_latest:
        if principal.revoked:
            raise InvalidRefreshToken()
        await sessions_repo.revoke_session(
            db, session_id=found.session_id, reason=RevocationReason.REUSE_DETECTED, at=now, actor_id=None
        )
        raise InvalidRefreshToken(commits=True)
    if principal.user_status != Status.ACTIVE or not session_is_live(settings, principal, now):
        raise InvalidRefreshToken()
    organization_id, user_id = found.organization_id, found.user_id
    if organization_id is not None and not await organizations.can_enter(
        db, user_id=user_id, organization_id=organization_id
    ):
        organization_id = None
    return await issue(
        db, settings, session_id=found.session_id, user_id=user_id, organization_id=organization_id, now=now
    )


# ------------------------------------------------------------------------------------- logout


async def logout(
    db: AsyncSession, settings: Settings, *, access_token: str | None, refresh_token: str | None, now: datetime
) -> None:
    """End the session of `refresh_token` when given (any rotation of it, even a used one),
    otherwise of the access token. Ending an ended session is a no-op; an unknown or invalid
    token is 401."""
    if refresh_token is not None:
        found = await sessions_repo.find_rotation(db, hash_refresh_token(refresh_token))
        if found is None:
            raise InvalidRefreshToken()
        session_id, user_id = found.session_id, found.user_id
        target = await load_principal(db, session_id=session_id, user_id=user_id)
        if target is None or target.revoked:
            return
    else:
        if not access_token:
            raise NotAuthenticated()
        principal = await authenticate(db, settings, token=access_token, now=now)
        session_id, user_id = principal.session_id, principal.user_id
    await sessions_repo.revoke_session(
        db, session_id=session_id, reason=RevocationReason.LOGOUT, at=now, actor_id=user_id
    )


# ------------------------------------------------------------------------ switch organization


async def switch_organization(
    db: AsyncSession,
    settings: Settings,
    *,
    principal: Principal,
    organization_id: uuid.UUID,
    refresh_token: str | None,
    now: datetime,
) -> TokenPair | AccessToken:
    """Make `organization_id` the caller's active organization.

    With the session's current refresh token: it is rotated (the old one is now used) and a new
    pair carrying the organization comes back — the session's active organization changes. With
    the access token alone: only a new access token carrying the organization; no refresh token
    (an access token never mints one — a stolen access token must not outlive its 15 minutes), and
    the session's active organization stays as it was (a refresh returns to it).

    404 when the caller is not a member (or the organization is archived or unknown), 403
    `organization_suspended` when it is suspended; 401 `invalid_refresh_token` for a refresh token
    of another session, and an already-used one of this session ends the session (reuse).
    """
    refusal = await organizations.entry_refusal(db, user_id=principal.user_id, organization_id=organization_id)
    if refusal is not None:
        raise refusal
    if refresh_token is None:
        access_token, expires_in = encode_access_token(
            settings,
            user_id=principal.user_id,
            session_id=principal.session_id,
            organization_id=organization_id,
            now=now,
        )
        return AccessToken(access_token, expires_in, organization_id)
    await sessions_repo.lock_session(db, principal.session_id)
    found = await sessions_repo.find_rotation(db, hash_refresh_token(refresh_token))
    if found is None or found.session_id != principal.session_id or found.user_id != principal.user_id:
        raise InvalidRefreshToken(pointer="/body/refresh_token")
    if not found.is_latest:
        await sessions_repo.revoke_session(
            db, session_id=found.session_id, reason=RevocationReason.REUSE_DETECTED, at=now, actor_id=None
        )
        raise InvalidRefreshToken(pointer="/body/refresh_token", commits=True)
    return await issue(
        db,
        settings,
        session_id=principal.session_id,
        user_id=principal.user_id,
        organization_id=organization_id,
        now=now,
    )


# ---------------------------------------------------------------------------------- the list


async def list_sessions(
    db: AsyncSession,
    settings: Settings,
    *,
    principal: Principal,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
    now: datetime,
) -> Page[SessionInfo]:
    """The caller's live sessions (not revoked, within the idle timeout and absolute lifetime),
    newest first."""
    rows = await sessions_repo.live_sessions_page(
        db,
        principal.user_id,
        created_after=sessions_cutoff(settings, now),
        used_after=now - timedelta(minutes=settings.session_idle_minutes),
        before=before,
        limit=limit + 1,
    )
    return page_of(rows, limit)


async def revoke_own_session(db: AsyncSession, *, principal: Principal, session_id: uuid.UUID, now: datetime) -> None:
    """End one of the caller's sessions (the current one too). Another user's: 404."""
    target = await load_principal(db, session_id=session_id, user_id=principal.user_id)
    if target is None:
        raise SessionNotFound()
    if not target.revoked:
        await sessions_repo.revoke_session(
            db, session_id=session_id, reason=RevocationReason.REVOKED_BY_USER, at=now, actor_id=principal.user_id
        )
