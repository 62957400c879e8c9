"""API keys: the base row, revocation and use facts; the per-request key check (one statement)."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import DateTime, Select, String, and_, bindparam, exists, func, insert, literal, or_, select, tuple_
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import Prepared, fetch_rows
from app.domain.api_keys import ApiKeyState, KeyPrincipal
from app.models import ApiKey, ApiKeyRevocation, ApiKeyUse
from app.repositories.principal import org_access, org_standing_columns

# ------------------------------------------------------------------------------- the guard's query


@cache
def _key_statement() -> Select[Any]:
    """Built once with bind parameters. Looks the key up by its hash, composes its liveness and
    the path organization's standing, and — in the same statement, through a data-modifying CTE —
    records the minute's use of a live key of that organization (`ON CONFLICT DO NOTHING` on the
    unique (key, minute) index: at most one row per key and minute, and no write at all for the
    other requests of that minute). A use is a live key presented on its own organization's
    routes, whatever the answer; inside a request's transaction a failure rolls it back too."""
    key_hash = bindparam("secret_hash", type_=String())
    org_id = bindparam("organization_id", type_=PG_UUID(as_uuid=True))
    now = bindparam("now", type_=DateTime(timezone=True))
    revoked = exists().where(ApiKeyRevocation.api_key_id == ApiKey.id)
    live = and_(~revoked, or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now))
    use = (
        pg_insert(ApiKeyUse)
        .from_select(
            ["api_key_id", "occurred_at", "minute"],
            select(ApiKey.id, now, func.date_trunc("minute", now, literal("UTC"))).where(
                ApiKey.secret_hash == key_hash, ApiKey.organization_id == org_id, live
            ),
        )
        .on_conflict_do_nothing(index_elements=["api_key_id", "minute"])
        .returning(ApiKeyUse.id)
        .cte("key_use")
    )
    return (
        select(
            ApiKey.id,
            ApiKey.organization_id,
            ApiKey.permissions,
            ApiKey.expires_at,
            revoked.label("revoked"),
            *org_standing_columns(org_id),
        )
        .where(ApiKey.secret_hash == key_hash)
        .add_cte(use)
    )


@cache
def _key_prepared() -> Prepared:
    # On the driver connection, like the user principal: every request made with a key runs it.
    return Prepared(_key_statement())


async def load_key_principal(
    db: AsyncSession, *, secret_hash: str, organization_id: uuid.UUID, now: datetime
) -> KeyPrincipal | None:
    """The key with this hash and the path organization's standing: ONE statement. None: no such key."""
    params = {"secret_hash": secret_hash, "organization_id": organization_id, "now": now}
    rows = await fetch_rows(db, _key_prepared(), params)
    if not rows:
        return None
    row = rows[0]
    return KeyPrincipal(
        api_key_id=row.id,
        organization_id=row.organization_id,
        permissions=tuple(row.permissions),
        expires_at=row.expires_at,
        revoked=row.revoked,
        org=org_access(row, organization_id, role=None),  # a key has no role: its permissions
    )


# ---------------------------------------------------------------------------------------- writes


async def create_api_key(
    db: AsyncSession,
    *,
    api_key_id: uuid.UUID,
    organization_id: uuid.UUID,
    name: str,
    prefix: str,
    secret_hash: str,
    permissions: list[str],
    created_by: uuid.UUID,
    created_at: datetime,
    expires_at: datetime | None,
) -> None:
    await db.execute(
        insert(ApiKey).values(
            id=api_key_id,
            organization_id=organization_id,
            name=name,
            prefix=prefix,
            secret_hash=secret_hash,
            permissions=permissions,
            created_by=created_by,
            created_at=created_at,
            expires_at=expires_at,
        )
    )


async def revoke_api_key(
    db: AsyncSession,
    *,
    api_key_id: uuid.UUID,
    at: datetime,
    actor_id: uuid.UUID | None,
    actor_api_key_id: uuid.UUID | None,
) -> bool:
    """Append the key's revocation; False when it already had one (at most one per key)."""
    stmt = (
        pg_insert(ApiKeyRevocation)
        .values(api_key_id=api_key_id, occurred_at=at, actor_id=actor_id, actor_api_key_id=actor_api_key_id)
        .on_conflict_do_nothing(index_elements=["api_key_id"])
        .returning(ApiKeyRevocation.id)
    )
    return (await db.execute(stmt)).scalar_one_or_none() is not None


# ----------------------------------------------------------------------------------------- reads


def _state_columns() -> list[Any]:
    revoked_at = select(ApiKeyRevocation.occurred_at).where(ApiKeyRevocation.api_key_id == ApiKey.id)
    last_used = (
        select(ApiKeyUse.occurred_at)
        .where(ApiKeyUse.api_key_id == ApiKey.id)
        .order_by(ApiKeyUse.minute.desc())
        .limit(1)
    )
    return [
        ApiKey.id,
        ApiKey.organization_id,
        ApiKey.name,
        ApiKey.prefix,
        ApiKey.permissions,
        ApiKey.created_by,
        ApiKey.created_at,
        ApiKey.expires_at,
        revoked_at.scalar_subquery().label("revoked_at"),
        last_used.scalar_subquery().label("last_used_at"),
    ]


def _state(row: Any) -> ApiKeyState:
    return ApiKeyState(
        id=row.id,
        organization_id=row.organization_id,
        name=row.name,
        prefix=row.prefix,
        permissions=tuple(row.permissions),
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


async def get_api_key(db: AsyncSession, organization_id: uuid.UUID, api_key_id: uuid.UUID) -> ApiKeyState | None:
    """One key of this organization (None for another organization's key: never revealed)."""
    stmt = select(*_state_columns()).where(ApiKey.id == api_key_id, ApiKey.organization_id == organization_id)
    row = (await db.execute(stmt)).one_or_none()
    return _state(row) if row else None


async def api_keys_page(
    db: AsyncSession, organization_id: uuid.UUID, *, before: tuple[datetime, uuid.UUID] | None = None, limit: int = 50
) -> list[ApiKeyState]:
    """The organization's keys newest first (revoked and expired ones too); keyset `before` =
    (created_at, id) of the previous page's last key. One statement on `ix_api_keys_organization`."""
    stmt = select(*_state_columns()).where(ApiKey.organization_id == organization_id)
    if before is not None:
        created_at, api_key_id = before
        after = tuple_(literal(created_at, DateTime(timezone=True)), literal(api_key_id, PG_UUID(as_uuid=True)))
        stmt = stmt.where(tuple_(ApiKey.created_at, ApiKey.id) < after)
    stmt = stmt.order_by(ApiKey.created_at.desc(), ApiKey.id.desc()).limit(limit)
    return [_state(row) for row in (await db.execute(stmt)).all()]
