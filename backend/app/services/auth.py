"""Authentication: register, log in, refresh, log out, switch organization, me, own sessions.

A session is created at login; each refresh token is one *rotation* of it (the latest rotation's
token is the only one that works, and its organization is the session's active organization).
Refreshing and switching append a rotation; logging out, changing the password, a user status
change and reuse detection append a revocation. Nothing is updated in place.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.database import Transactions
from app.core.errors import AppError, NotAuthenticated
from app.core.security import encode_access_token, hash_refresh_token, new_refresh_token, passwords
from app.domain.errors import (
    EmailNotVerified,
    InvalidCredentials,
    InvalidRefreshToken,
    OrganizationNotFound,
    OrganizationSuspended,
    SessionNotFound,
)
from app.domain.organizations import Membership, OrgState
from app.domain.sessions import Principal, SessionInfo
from app.domain.users import UserState
from app.domain.vocabulary import RevocationReason, Status
from app.repositories import organizations as orgs_repo
from app.repositories import sessions as sessions_repo
from app.repositories import users as users_repo
from app.services import invitations, mail_messages, throttling
from app.services.emails import account_key, check_email
from app.services.organizations import can_enter, create_organization
from app.services.password_policy import check_new_password, normalize_password
from app.services.principal import authenticate, session_is_live
from app.services.users import ClientInfo, create_account, sessions_cutoff

# ------------------------------------------------------------------------------------- errors


# ------------------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    organization_id: uuid.UUID | None
    session_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Registration:
    user: UserState
    organization: OrgState | None


@dataclass(frozen=True, slots=True)
class Me:
    user: UserState
    session_id: uuid.UUID
    active_organization: Membership | None
    memberships: list[Membership]


@dataclass(frozen=True, slots=True)
class SessionsPage:
    items: list[SessionInfo]
    more: bool


# ----------------------------------------------------------------------------------- register


async def register(
    db: AsyncSession,
    settings: Settings,
    *,
    email: str,
    password: str,
    display_name: str,
    organization_name: str | None,
    now: datetime,
    invitation_token: str | None = None,
) -> Registration:
    """A new active user; with `organization_name`, also their first organization (owner and
    member), in the same transaction. 422 for a bad email or password, 409 for a taken email.
    A verification message is appended to the outbox — unless `invitation_token` is given: then
    the email must be the invited one, the user counts as verified and joins the organization at
    once. With REQUIRE_VERIFIED_EMAIL a new, unverified user cannot found an organization here
    (403 `email_not_verified`)."""
    email = check_email(email)
    normalized = check_new_password(password, email=email)
    if organization_name is not None and settings.require_verified_email and invitation_token is None:
        raise EmailNotVerified(pointer="/body/organization_name")
    hasher = passwords(settings)
    async with hasher.admission():
        password_hash = await hasher.hash(normalized)
    user_id = await create_account(db, email=email, password_hash=password_hash, display_name=display_name, now=now)
    if invitation_token is not None:
        await invitations.accept_on_registration(db, token=invitation_token, user_id=user_id, now=now)
    else:
        await mail_messages.send_verification(db, settings, user_id=user_id, email=email, now=now)
    organization = None
    if organization_name is not None:
        organization_id = await create_organization(db, creator_id=user_id, name=organization_name, now=now)
        organization = OrgState(
            id=organization_id,
            created_at=now,
            created_by=user_id,
            name=organization_name,
            description=None,
            status=Status.ACTIVE,
            owner_id=user_id,
        )
    user = await users_repo.get_user_state(db, user_id)
    assert user is not None
    return Registration(user=user, organization=organization)


# -------------------------------------------------------------------------------------- login


async def _entry_refusal(db: AsyncSession, *, user_id: uuid.UUID, organization_id: uuid.UUID) -> AppError | None:
    """None when the user may make the organization a session's active one; otherwise the error:
    403 `organization_suspended` for a member of a suspended organization, 404 for everything
    else (not a member, archived, unknown — never which)."""
    if await can_enter(db, user_id=user_id, organization_id=organization_id):
        return None
    before = uuid.UUID(int=organization_id.int - 1) if organization_id.int else None
    page = await orgs_repo.memberships_of_user(db, user_id, after=before, limit=1)
    if page and page[0].organization.id == organization_id and page[0].organization.status == Status.SUSPENDED:
        return OrganizationSuspended(pointer="/body/organization_id")
    return OrganizationNotFound(pointer="/body/organization_id")


async def _issue(
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


async def login(
    transactions: Transactions,
    settings: Settings,
    *,
    email: str,
    password: str,
    organization_id: uuid.UUID | None,
    client: ClientInfo,
    now: datetime,
) -> TokenPair:
    """Check the password and open a session, holding no database connection while argon2 runs.

    1. A place among the logins allowed to hash (`Passwords.admission`, else 503 at once).
    2. One short transaction: throttling (429 whatever the password; the address and account locks
       make both budgets exact under parallel bursts), the attempt recorded, and the credential
       and status read in one query. Committed: the connection goes back to the pool.
    3. argon2 in the hash pool — against a dummy hash when the email is unknown — and only then
       the status, so every refusal costs the same and answers the same.
    4. On success, a second short transaction: the success recorded, a rehash stored if the
       parameters changed, the organization checked, the session opened.
    """
    key = throttling.throttle_key(settings, email)
    hasher = passwords(settings)
    normalized = normalize_password(password)
    async with hasher.admission():
        async with transactions() as db:
            await throttling.admit_attempt(db, settings, account_key=key, ip_address=client.ip_address, now=now)
            candidate = await users_repo.find_login(db, account_key(email))
        matches = await hasher.verify(candidate.password_hash if candidate else None, normalized)
        if not matches or candidate is None or candidate.status != Status.ACTIVE:
            raise InvalidCredentials(commits=True)
        rehashed = await hasher.hash(normalized) if hasher.needs_rehash(candidate.password_hash) else None
    user_id = candidate.user_id
    async with transactions() as db:
        await throttling.record_success(db, account_key=key, ip_address=client.ip_address, now=now)
        if settings.require_verified_email and not candidate.email_verified:
            # Only after a correct password (a failure still gets the one identical 401).
            raise EmailNotVerified(commits=True)
        if rehashed is not None:
            await users_repo.add_credential(
                db, user_id=user_id, email=account_key(email), password_hash=rehashed, at=now, actor_id=user_id
            )
        if organization_id is not None:
            refusal = await _entry_refusal(db, user_id=user_id, organization_id=organization_id)
            if refusal is not None:
                refusal.commits = True  # the attempt's success stays recorded
                raise refusal
        session_id = uuid.uuid4()
        await sessions_repo.create_session(
            db,
            session_id=session_id,
            user_id=user_id,
            created_at=now,
            user_agent=client.user_agent,
            ip_address=client.ip_address,
        )
        return await _issue(
            db, settings, session_id=session_id, user_id=user_id, organization_id=organization_id, now=now
        )


# ------------------------------------------------------------------------------------ refresh


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
    principal = await sessions_repo.load_principal(db, session_id=found.session_id, user_id=found.user_id)
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
    organization_id = found.organization_id
    if organization_id is not None and not await can_enter(db, user_id=found.user_id, organization_id=organization_id):
        organization_id = None
    return await _issue(
        db, settings, session_id=found.session_id, user_id=found.user_id, organization_id=organization_id, now=now
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
        target = await sessions_repo.load_principal(db, session_id=session_id, user_id=user_id)
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


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A new access token without a refresh token (switching with the access token alone)."""

    access_token: str
    expires_in: int
    organization_id: uuid.UUID | None


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
    refusal = await _entry_refusal(db, user_id=principal.user_id, organization_id=organization_id)
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
    return await _issue(
        db,
        settings,
        session_id=principal.session_id,
        user_id=principal.user_id,
        organization_id=organization_id,
        now=now,
    )


# ----------------------------------------------------------------------------------------- me

MAX_ME_MEMBERSHIPS = 100


async def me(db: AsyncSession, *, principal: Principal) -> Me:
    """The caller, the active organization of the access token (None when there is none or the
    caller left it) and the caller's memberships with their role (the first 100; `GET /organizations`
    pages through all)."""
    user = principal.user or await users_repo.get_user_state(db, principal.user_id)
    assert user is not None
    memberships = await orgs_repo.memberships_of_user(db, principal.user_id, limit=MAX_ME_MEMBERSHIPS)
    active = None
    organization_id = principal.token_organization_id
    if organization_id is not None:
        active = next((m for m in memberships if m.organization.id == organization_id), None)
        if active is None and len(memberships) == MAX_ME_MEMBERSHIPS:
            before = uuid.UUID(int=organization_id.int - 1) if organization_id.int else None
            page = await orgs_repo.memberships_of_user(db, principal.user_id, after=before, limit=1)
            active = page[0] if page and page[0].organization.id == organization_id else None
    return Me(user=user, session_id=principal.session_id, active_organization=active, memberships=memberships)


# ----------------------------------------------------------------------------------- sessions


async def list_sessions(
    db: AsyncSession,
    settings: Settings,
    *,
    principal: Principal,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
    now: datetime,
) -> SessionsPage:
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
    return SessionsPage(items=rows[:limit], more=len(rows) > limit)


async def revoke_own_session(db: AsyncSession, *, principal: Principal, session_id: uuid.UUID, now: datetime) -> None:
    """End one of the caller's sessions (the current one too). Another user's: 404."""
    target = await sessions_repo.load_principal(db, session_id=session_id, user_id=principal.user_id)
    if target is None:
        raise SessionNotFound()
    if not target.revoked:
        await sessions_repo.revoke_session(
            db, session_id=session_id, reason=RevocationReason.REVOKED_BY_USER, at=now, actor_id=principal.user_id
        )
