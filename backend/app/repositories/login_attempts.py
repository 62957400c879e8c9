"""Login attempts: appended once each, read back for throttling (shared by every worker process).

Both reads are bounded range scans of one index: `ix_login_attempts_account` (account_key,
occurred_at DESC) and `ix_login_attempts_ip` (ip_address, occurred_at DESC).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.users import Attempt
from app.models import LoginAttempt
from app.repositories.locks import advisory_xact_lock


async def lock_account(db: AsyncSession, account_key: str) -> None:
    """Serialize login attempts on one account key until the transaction ends.

    Two parallel guesses then cannot both slip under the failure limit.
    """
    await advisory_xact_lock(db, "login", account_key)


async def lock_address(db: AsyncSession, ip_address: str) -> None:
    """Serialize login attempts from one client address until the transaction ends (taken before
    the account lock, always in that order, so two attempts cannot deadlock)."""
    await advisory_xact_lock(db, "login-ip", ip_address)


async def record_attempt(
    db: AsyncSession, *, account_key: str, ip_address: str | None, succeeded: bool, at: datetime
) -> None:
    await db.execute(
        insert(LoginAttempt).values(account_key=account_key, ip_address=ip_address, succeeded=succeeded, occurred_at=at)
    )


async def recent_attempts(
    db: AsyncSession, account_key: str, *, since: datetime, limit: int, before: Attempt | None = None
) -> list[Attempt]:
    """The account's attempts after `since` (and older than `before`), newest first, at most `limit`."""
    stmt = (
        select(LoginAttempt.occurred_at, LoginAttempt.succeeded, LoginAttempt.id)
        .where(LoginAttempt.account_key == account_key, LoginAttempt.occurred_at > since)
        .order_by(LoginAttempt.occurred_at.desc(), LoginAttempt.id.desc())
        .limit(limit)
    )
    if before is not None:
        after = tuple_(
            literal(before.occurred_at, LoginAttempt.occurred_at.type), literal(before.seq, LoginAttempt.id.type)
        )
        stmt = stmt.where(tuple_(LoginAttempt.occurred_at, LoginAttempt.id) < after)
    return [Attempt(row.occurred_at, row.succeeded, row.id) for row in (await db.execute(stmt)).all()]


async def nth_latest_from_address(db: AsyncSession, ip_address: str, *, since: datetime, n: int) -> datetime | None:
    """When the address made its n-th most recent attempt after `since` (None: fewer than n).

    Attempts are the `succeeded = false` rows (each attempt writes one before its password is
    checked; a success adds a `succeeded = true` row, which is no further attempt)."""
    stmt = (
        select(LoginAttempt.occurred_at)
        .where(
            LoginAttempt.ip_address == ip_address, LoginAttempt.occurred_at > since, LoginAttempt.succeeded.is_(False)
        )
        .order_by(LoginAttempt.occurred_at.desc())
        .offset(n - 1)
        .limit(1)
    )
    return (await db.execute(stmt)).scalar_one_or_none()
