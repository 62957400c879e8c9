"""Adds of members by email, one row each, found or not (the per-caller rate limit reads them)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import MemberEmailLookup
from app.repositories.locks import advisory_xact_lock


async def lock_caller(db: AsyncSession, caller: str) -> None:
    """Serialize one caller's adds by email until the transaction ends (an exact budget)."""
    await advisory_xact_lock(db, "member-email", caller)


async def record(db: AsyncSession, *, caller: str, organization_id: uuid.UUID, at: datetime) -> None:
    await db.execute(insert(MemberEmailLookup).values(caller=caller, organization_id=organization_id, occurred_at=at))


async def nth_latest(db: AsyncSession, caller: str, *, since: datetime, n: int) -> datetime | None:
    """When the caller made its n-th most recent lookup after `since` (None: fewer than n)."""
    stmt = (
        select(MemberEmailLookup.occurred_at)
        .where(MemberEmailLookup.caller == caller, MemberEmailLookup.occurred_at > since)
        .order_by(MemberEmailLookup.occurred_at.desc())
        .offset(n - 1)
        .limit(1)
    )
    return (await db.execute(stmt)).scalar_one_or_none()
