"""Figures `/metrics` reads from the database at scrape time (not per request)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories.outbox import backlog
from app.services.outbox import RETRY_WINDOW

_FAILED_DELIVERIES = text("SELECT count(*) FROM outbox_deliveries WHERE kind = 'failed'")


async def outbox_gauges(db: AsyncSession, *, now: datetime) -> tuple[int, int]:
    """(messages due for delivery now, failed delivery attempts ever recorded)."""
    due = await backlog(db, now=now, since=now - RETRY_WINDOW)
    failed = int((await db.execute(_FAILED_DELIVERIES)).scalar_one())
    return due, failed
