"""Email tokens and mail-request throttling.

A token is 32 random bytes, url-safe; only its SHA-256 is stored, with its purpose, user, email
and expiry. It works once (a use fact, unique per token) and only for its purpose: a reset token
is no verification token. Redemption locks the token's row first, so two concurrent uses of one
token are serialized and exactly one succeeds.

Mail requests (a verification, an email change, a password reset) are throttled per key (a user,
an address) to EMAIL_REQUESTS_PER_HOUR in any sliding hour, and password resets also per client
address like logins (LOGIN_IP_RATE_PER_MINUTE). Requests for unknown addresses count the same.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import TooManyRequests
from app.domain.email import TokenRecord
from app.domain.errors import InvalidToken
from app.domain.vocabulary import EmailRequestKind, TokenPurpose
from app.repositories import email_requests as requests_repo
from app.repositories import email_tokens as tokens_repo

TOKEN_BYTES = 32
REQUEST_WINDOW = timedelta(hours=1)
ADDRESS_WINDOW = timedelta(minutes=1)
MAX_TOKEN_LENGTH = 128


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def lifetime(settings: Settings, purpose: TokenPurpose) -> timedelta:
    if purpose == TokenPurpose.PASSWORD_RESET:
        return timedelta(minutes=settings.password_reset_minutes)
    if purpose == TokenPurpose.INVITATION:
        return timedelta(days=settings.invitation_days)
    return timedelta(hours=settings.email_verify_hours)  # verify_email, change_email


async def issue(
    db: AsyncSession,
    settings: Settings,
    *,
    purpose: TokenPurpose,
    email: str,
    now: datetime,
    user_id: uuid.UUID | None = None,
    invitation_id: uuid.UUID | None = None,
    expires_at: datetime | None = None,
    actor_id: uuid.UUID | None = None,
) -> str:
    """A new token (returned once, to be mailed); its hash is stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await tokens_repo.add_token(
        db,
        token_hash=hash_token(token),
        purpose=purpose,
        user_id=user_id,
        email=email,
        expires_at=expires_at or now + lifetime(settings, purpose),
        invitation_id=invitation_id,
        at=now,
        actor_id=actor_id,
    )
    return token


async def find(db: AsyncSession, token: str, *, purposes: tuple[TokenPurpose, ...]) -> TokenRecord:
    """The token's record, its row locked until the transaction ends; InvalidToken when unknown
    or of another purpose. Expiry and use are the caller's to judge (an invitation answers 409)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken()
    record = await tokens_repo.find_token(db, hash_token(token), lock=True)
    if record is None or record.purpose not in purposes:
        raise InvalidToken()
    return record


async def redeem(
    db: AsyncSession,
    token: str,
    *,
    purposes: tuple[TokenPurpose, ...],
    now: datetime,
    actor_id: uuid.UUID | None = None,
) -> TokenRecord:
    """Use the token once: InvalidToken when unknown, of another purpose, used or expired."""
    record = await find(db, token, purposes=purposes)
    if record.used or now >= record.expires_at:
        raise InvalidToken()
    await tokens_repo.add_use(db, token_id=record.id, at=now, actor_id=actor_id)
    return record


async def mark_used(db: AsyncSession, record: TokenRecord, *, now: datetime, actor_id: uuid.UUID | None) -> None:
    if not record.used:
        await tokens_repo.add_use(db, token_id=record.id, at=now, actor_id=actor_id)


# ----------------------------------------------------------------------------- throttling


def _retry_after(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


async def throttle_request(
    db: AsyncSession,
    settings: Settings,
    *,
    kind: EmailRequestKind,
    key: str,
    ip_address: str | None,
    now: datetime,
    per_address: bool = False,
) -> None:
    """Record a mail request, or refuse it (429 + Retry-After) when `key` — or, with
    `per_address`, the client address — asked too often. Refused requests are not recorded."""
    await requests_repo.lock_key(db, kind, key)
    rate = settings.login_ip_rate_per_minute
    if per_address and rate > 0 and ip_address is not None:
        nth = await requests_repo.nth_latest_from_address(
            db, kind=kind, ip_address=ip_address, since=now - ADDRESS_WINDOW, n=rate
        )
        if nth is not None:
            raise TooManyRequests(_retry_after(nth + ADDRESS_WINDOW, now))
    limit = settings.email_requests_per_hour
    oldest = await requests_repo.oldest_in_window(db, kind=kind, key=key, since=now - REQUEST_WINDOW, limit=limit)
    if oldest is not None:
        raise TooManyRequests(_retry_after(oldest + REQUEST_WINDOW, now))
    await requests_repo.record(db, kind=kind, key=key, ip_address=ip_address, at=now)
