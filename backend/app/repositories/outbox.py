"""The outbox: messages appended with the change that caused them, and their delivery facts.

A message is *due* when it is recent (inside the retry window), has no `sent` fact, and its latest
`failed` fact (if any) names a next attempt time that has come. Claiming locks the message row
with `FOR UPDATE SKIP LOCKED` (a lock, not an update): two delivery loops never hold one message.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.mail import Message, MessageStatus
from app.domain.vocabulary import DeliveryKind, MessageKind
from app.models import OutboxDelivery, OutboxMessage
from app.repositories.facts import append


async def append_message(
    db: AsyncSession,
    *,
    kind: MessageKind,
    recipient: str,
    subject: str,
    body: str,
    link: str | None,
    at: datetime,
    actor_id: uuid.UUID | None = None,
) -> int:
    return await append(
        db,
        OutboxMessage,
        occurred_at=at,
        actor_id=actor_id,
        kind=kind,
        recipient=recipient,
        subject=subject,
        body=body,
        link=link,
    )


async def append_delivery(
    db: AsyncSession,
    *,
    message_id: int,
    kind: DeliveryKind,
    attempt: int,
    at: datetime,
    error: str | None = None,
    next_attempt_at: datetime | None = None,
) -> None:
    await append(
        db,
        OutboxDelivery,
        occurred_at=at,
        actor_id=None,
        message_id=message_id,
        kind=kind,
        attempt=attempt,
        error=error,
        next_attempt_at=next_attempt_at,
    )


# The latest delivery fact of each candidate (index `ix_outbox_deliveries_latest`), then the due
# test. Candidates come newest first from `ix_outbox_messages_recent`, bounded by the window.
_DUE = """
FROM outbox_messages m
LEFT JOIN LATERAL (
    SELECT d.kind, d.attempt, d.next_attempt_at FROM outbox_deliveries d
    WHERE d.message_id = m.id ORDER BY d.id DESC LIMIT 1
) last ON true
WHERE m.occurred_at > :since
  AND (last.kind IS NULL OR (last.kind = 'failed' AND last.next_attempt_at <= :now))
"""

_CLAIM = text(
    f"""SELECT m.id, m.occurred_at, m.kind, m.recipient, m.subject, m.body, m.link,
       coalesce(last.attempt, 0) AS attempts
{_DUE}
ORDER BY m.id
LIMIT 1
FOR UPDATE OF m SKIP LOCKED"""
)

_BACKLOG = text(f"SELECT count(*) {_DUE}")


_STILL_DUE = text(
    f"""SELECT coalesce(last.attempt, 0) AS attempts
{_DUE} AND m.id = :id"""
)


async def claim_due(db: AsyncSession, *, now: datetime, since: datetime) -> Message | None:
    """The oldest due message, locked until the transaction ends; None when there is none (or
    every due one is held by another loop).

    Locking a row that another loop only *locked* (it appended a delivery fact, it did not update
    the message) makes PostgreSQL re-check nothing: a claim whose snapshot predates that loop's
    commit would still see the message as due. So once locked, the message is re-read in a new
    statement (a new snapshot under READ COMMITTED, taken after the other loop released the lock,
    i.e. committed) and skipped when it was sent meanwhile.
    """
    for _ in range(_MAX_RECLAIMS):
        row = (await db.execute(_CLAIM, {"now": now, "since": since})).one_or_none()
        if row is None:
            return None
        attempts = (await db.execute(_STILL_DUE, {"now": now, "since": since, "id": row.id})).scalar_one_or_none()
        if attempts is not None:
            return Message(row.id, row.occurred_at, row.kind, row.recipient, row.subject, row.body, row.link, attempts)
    return None


_MAX_RECLAIMS = 100


async def backlog(db: AsyncSession, *, now: datetime, since: datetime) -> int:
    """How many messages are due now (for a metrics gauge)."""
    return int((await db.execute(_BACKLOG, {"now": now, "since": since})).scalar_one())


async def latest_messages(db: AsyncSession, *, limit: int) -> list[MessageStatus]:
    """The newest messages first, each with its latest delivery fact."""
    last = (
        select(OutboxDelivery.kind, OutboxDelivery.error, OutboxDelivery.next_attempt_at, OutboxDelivery.attempt)
        .where(OutboxDelivery.message_id == OutboxMessage.id)
        .order_by(OutboxDelivery.id.desc())
        .limit(1)
        .lateral()
    )
    stmt = (
        select(OutboxMessage, last.c.kind.label("delivery"), last.c.error, last.c.next_attempt_at, last.c.attempt)
        .outerjoin(last, text("true"))
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return [
        MessageStatus(_message(row.OutboxMessage, row.attempt or 0), row.delivery, row.error, row.next_attempt_at)
        for row in (await db.execute(stmt)).all()
    ]


async def messages_after(db: AsyncSession, after_id: int, *, limit: int = 100) -> list[Message]:
    """Messages appended after `after_id`, oldest first (the log-only mode follows the table)."""
    stmt = select(OutboxMessage).where(OutboxMessage.id > after_id).order_by(OutboxMessage.id).limit(limit)
    return [_message(m) for m in (await db.execute(stmt)).scalars()]


async def last_message_id(db: AsyncSession) -> int:
    return int((await db.execute(select(func.coalesce(func.max(OutboxMessage.id), 0)))).scalar_one())


def _message(m: OutboxMessage, attempts: int = 0) -> Message:
    return Message(m.id, m.occurred_at, m.kind, m.recipient, m.subject, m.body, m.link, attempts)
