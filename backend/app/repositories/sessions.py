"""Sessions, their refresh-token rotations and revocations (the per-request read: `principal.py`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import exists, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.domain.sessions import RotationLookup, SessionInfo
from app.domain.vocabulary import RevocationReason
from app.models import Session, SessionRevocation, SessionRotation
from app.repositories.facts import append, latest_column


async def create_session(
    db: AsyncSession,
    *,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    created_at: datetime,
    user_agent: str | None,
    ip_address: str | None,
) -> None:
    db.add(Session(id=session_id, user_id=user_id, created_at=created_at, user_agent=user_agent, ip_address=ip_address))
    await db.flush()


async def add_rotation(
    db: AsyncSession,
    *,
    session_id: uuid.UUID,
    token_hash: str,
    organization_id: uuid.UUID | None,
    at: datetime,
    actor_id: uuid.UUID | None,
) -> None:
    await append(
        db,
        SessionRotation,
        occurred_at=at,
        actor_id=actor_id,
        session_id=session_id,
        token_hash=token_hash,
        organization_id=organization_id,
    )


async def revoke_session(
    db: AsyncSession, *, session_id: uuid.UUID, reason: RevocationReason, at: datetime, actor_id: uuid.UUID | None
) -> None:
    await append(db, SessionRevocation, occurred_at=at, actor_id=actor_id, session_id=session_id, reason=reason)


async def find_rotation(db: AsyncSession, token_hash: str) -> RotationLookup | None:
    """The session a refresh token belongs to, and whether it is still that session's newest."""
    later = aliased(SessionRotation)
    newest = latest_column(later, "id", {"session_id": SessionRotation.session_id})
    stmt = (
        select(
            SessionRotation.session_id,
            Session.user_id,
            (SessionRotation.id == newest).label("is_latest"),
            SessionRotation.organization_id,
        )
        .join(Session, Session.id == SessionRotation.session_id)
        .where(SessionRotation.token_hash == token_hash)
    )
    row = (await db.execute(stmt)).one_or_none()
    return RotationLookup(row.session_id, row.user_id, row.is_latest, row.organization_id) if row else None


async def lock_session(db: AsyncSession, session_id: uuid.UUID) -> None:
    """Serialize refreshes of one session (so two concurrent uses of one token cannot both win)."""
    await db.execute(select(Session.id).where(Session.id == session_id).with_for_update())


async def live_sessions_page(
    db: AsyncSession,
    user_id: uuid.UUID,
    *,
    created_after: datetime,
    used_after: datetime,
    before: tuple[datetime, uuid.UUID] | None = None,
    limit: int = 50,
) -> list[SessionInfo]:
    """The user's unrevoked sessions created after `created_after` and last used (created or
    refreshed) after `used_after`, newest first; keyset `before` = (created_at, id) of the last
    row of the previous page. Scans `ix_sessions_user` back to `created_after` only."""
    last_used = func.coalesce(
        latest_column(SessionRotation, "occurred_at", {"session_id": Session.id}), Session.created_at
    )
    stmt = select(Session.id, Session.created_at, Session.user_agent, last_used.label("last_used_at")).where(
        Session.user_id == user_id,
        Session.created_at > created_after,
        ~exists().where(SessionRevocation.session_id == Session.id),
        last_used > used_after,
    )
    if before is not None:
        stmt = stmt.where(tuple_(Session.created_at, Session.id) < tuple_(literal(before[0]), literal(before[1])))
    stmt = stmt.order_by(Session.created_at.desc(), Session.id.desc()).limit(limit)
    return [
        SessionInfo(row.id, row.created_at, row.last_used_at, row.user_agent) for row in (await db.execute(stmt)).all()
    ]


async def unrevoked_session_ids(db: AsyncSession, user_id: uuid.UUID, *, created_after: datetime) -> list[uuid.UUID]:
    """The user's sessions with no revocation yet, created after `created_after` (older ones are
    past their absolute lifetime and can never be used again)."""
    stmt = select(Session.id).where(
        Session.user_id == user_id,
        Session.created_at > created_after,
        ~exists().where(SessionRevocation.session_id == Session.id),
    )
    return list((await db.execute(stmt)).scalars().all())
