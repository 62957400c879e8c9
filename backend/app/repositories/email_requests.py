"""Requests for mail (verification, email change, password reset), read back for throttling.

Recorded for unknown addresses as for known ones, so throttling answers the same for both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.vocabulary import EmailRequestKind
from app.models import EmailRequest
from app.repositories.locks import advisory_xact_lock


async def lock_key(db: AsyncSession, kind: EmailRequestKind, key: str) -> None:
    """Serialize requests of one kind for one key until the transaction ends (exact counts)."""
    await advisory_xact_lock(db, f"mail-{kind}", key)


async def record(db: AsyncSession, *, kind: EmailRequestKind, key: str, ip_address: str | None, at: datetime) -> None:
    await db.execute(insert(EmailRequest).values(kind=kind, key=key, ip_address=ip_address, occurred_at=at))


async def oldest_in_window(
    db: AsyncSession, *, kind: EmailRequestKind, key: str, since: datetime, limit: int
) -> datetime | None:
    """When the `limit`-th most recent request of `key` after `since` was made (None: fewer)."""
    stmt = (
        select(EmailRequest.occurred_at)
        .where(EmailRequest.kind == kind, EmailRequest.key == key, EmailRequest.occurred_at > since)
        .order_by(EmailRequest.occurred_at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def nth_latest_from_address(
    db: AsyncSession, *, kind: EmailRequestKind, ip_address: str, since: datetime, n: int
) -> datetime | None:
    stmt = (
        select(EmailRequest.occurred_at)
        .where(EmailRequest.kind == kind, EmailRequest.ip_address == ip_address, EmailRequest.occurred_at > since)
        .order_by(EmailRequest.occurred_at.desc())
        .offset(n - 1)
        .limit(1)
    )
    return (await db.execute(stmt)).scalar_one_or_none()
