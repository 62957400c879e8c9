"""Who is calling, re-checked in the database on every request."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import NotAuthenticated
from app.core.security import InvalidToken, verify_access_token
from app.domain.sessions import Principal
from app.repositories.sessions import load_principal


def session_end(settings: Settings, *, created_at: datetime, last_rotated_at: datetime | None) -> datetime:
    """When a session stops being usable: idle timeout after its last refresh, capped by its lifetime."""
    idle_end = (last_rotated_at or created_at) + timedelta(minutes=settings.session_idle_minutes)
    absolute_end = created_at + timedelta(days=settings.session_absolute_days)
    return min(idle_end, absolute_end)


def session_is_live(settings: Settings, principal: Principal, now: datetime) -> bool:
    if principal.revoked:
        return False
    return now < session_end(
        settings, created_at=principal.session_created_at, last_rotated_at=principal.last_rotated_at
    )


async def authenticate(
    db: AsyncSession,
    settings: Settings,
    *,
    token: str,
    now: datetime,
    organization_id: uuid.UUID | None = None,
    with_user: bool = False,
) -> Principal:
    """Verify the access token and confirm — in one query — that its session is live and its user
    active; with `organization_id`, the same query composes the caller's standing there; with
    `with_user`, the user's whole state (`principal.user`)."""
    try:
        claims = verify_access_token(settings, token, now=now)
    except InvalidToken as exc:
        raise NotAuthenticated() from exc
    principal = await load_principal(
        db, session_id=claims.session_id, user_id=claims.user_id, organization_id=organization_id, with_user=with_user
    )
    if principal is None or principal.user_status != "active" or not session_is_live(settings, principal, now):
        raise NotAuthenticated()
    return dataclasses.replace(principal, token_organization_id=claims.organization_id)
