"""Email tokens (stored as SHA-256 only), their use facts, and verified addresses."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.email import TokenRecord
from app.domain.vocabulary import TokenPurpose
from app.models import EmailToken, EmailTokenUse, UserEmailVerification
from app.repositories.facts import append


async def add_token(
    db: AsyncSession,
    *,
    token_hash: str,
    purpose: TokenPurpose,
    user_id: uuid.UUID | None,
    email: str,
    expires_at: datetime,
    invitation_id: uuid.UUID | None,
    at: datetime,
    actor_id: uuid.UUID | None,
) -> int:
    return await append(
        db,
        EmailToken,
        occurred_at=at,
        actor_id=actor_id,
        token_hash=token_hash,
        purpose=purpose,
        user_id=user_id,
        email=email,
        expires_at=expires_at,
        invitation_id=invitation_id,
    )


async def find_token(db: AsyncSession, token_hash: str, *, lock: bool = False) -> TokenRecord | None:
    """The token with this hash and whether it was used. `lock`: hold its row until the
    transaction ends (`FOR UPDATE OF` the token — a lock, not an update), so two concurrent
    redemptions are serialized and the second sees the first's use."""
    used = exists().where(EmailTokenUse.token_id == EmailToken.id)
    stmt = select(EmailToken, used.label("used")).where(EmailToken.token_hash == token_hash)
    if lock:
        stmt = stmt.with_for_update(of=EmailToken)
    row = (await db.execute(stmt)).one_or_none()
    if row is None:
        return None
    t = row.EmailToken
    return TokenRecord(t.id, t.purpose, t.user_id, t.email, t.occurred_at, t.expires_at, t.invitation_id, row.used)


async def add_use(db: AsyncSession, *, token_id: int, at: datetime, actor_id: uuid.UUID | None) -> None:
    await append(db, EmailTokenUse, occurred_at=at, actor_id=actor_id, token_id=token_id)


async def add_verification(
    db: AsyncSession, *, user_id: uuid.UUID, email: str, at: datetime, actor_id: uuid.UUID | None
) -> None:
    await append(db, UserEmailVerification, occurred_at=at, actor_id=actor_id, user_id=user_id, email=email)


def verified_column(user_id: object, email: object) -> ColumnElement[bool]:
    """EXISTS a verification of `email` for `user_id` (index `ix_user_email_verifications_user_email`)."""
    return exists().where(UserEmailVerification.user_id == user_id, UserEmailVerification.email == email)


async def is_verified(db: AsyncSession, user_id: uuid.UUID, email: str) -> bool:
    return bool((await db.execute(select(verified_column(user_id, email)))).scalar_one())
