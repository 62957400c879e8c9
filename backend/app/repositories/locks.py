"""Transaction-scoped advisory locks for things that have no row to lock (an email, a login key)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


async def advisory_xact_lock(db: AsyncSession, namespace: str, key: str) -> None:
    """Wait for, then hold until the transaction ends, the lock named `namespace:key`."""
    await db.execute(_LOCK, {"key": f"{namespace}:{key}"})
