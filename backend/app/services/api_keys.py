"""API keys (SPEC §11): another backend acting on one organization with a subset of its creator's
permissions.

- A key reads `tnc_<prefix>_<secret>`: `prefix` is 12 public hex characters (shown in lists, so a
  key can be recognised), `secret` 32 random bytes (256 bits, base64url). It is shown once, at
  creation; the database keeps only the SHA-256 of the whole key. A fast hash is right here: a
  slow one (argon2) defends guessable secrets, and a uniformly random 256-bit secret cannot be
  guessed, offline or online. It is unkeyed on purpose: a server-side pepper would add nothing
  against brute force at this entropy, and would tie every key to one more secret whose rotation
  would silently invalidate them all.
- Permissions: a subset of the creator's own (else 403 `permission_escalation`), and only what
  some role can hold (`GRANTABLE`) minus `api_keys:create` — a key cannot mint keys, so a leaked
  key cannot outlive its own revocation (asking for it: 422).
- The guard authenticates a key in one statement (`repositories.api_keys.load_key_principal`):
  unknown, revoked or expired → 401 `invalid_api_key`; another organization's id → 404 (like any
  invisible id); its organization archived → 404, suspended → 403 `organization_suspended`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.api_keys import ApiKeyState
from app.domain.errors import (
    ApiKeyNotFound,
    ExpiryInThePast,
    InvalidApiKey,
    OrganizationNotFound,
    PermissionEscalation,
    PermissionNotGrantable,
)
from app.domain.permissions import GRANTABLE, Permission, sorted_permissions
from app.repositories import api_keys as repo
from app.services import policies
from app.services.org_access import admit_locked
from app.services.pages import Page, page_of
from app.services.policies import Action, OrgContext

KEY_GRANTABLE: frozenset[Permission] = GRANTABLE - {Permission.API_KEYS_CREATE}
"""What an API key may carry."""

_KEY = re.compile(r"tnc_(?P<prefix>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})")

# ------------------------------------------------------------------------------------- errors


# -------------------------------------------------------------------------------- the key itself


def new_key() -> tuple[str, str, str]:
    """A fresh key: (key, prefix, SHA-256 hex of the key)."""
    prefix = secrets.token_hex(6)
    key = f"tnc_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, key_hash(key)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def well_formed(key: str) -> bool:
    return _KEY.fullmatch(key) is not None


# ---------------------------------------------------------------------------------- the guard


async def key_context(db: AsyncSession, *, key: str, organization_id: uuid.UUID, now: datetime) -> OrgContext:
    """The `OrgContext` of a request made with `X-API-Key` on `organization_id`'s routes."""
    if not well_formed(key):
        raise InvalidApiKey()
    found = await repo.load_key_principal(db, secret_hash=key_hash(key), organization_id=organization_id, now=now)
    if found is None or found.revoked or (found.expires_at is not None and found.expires_at <= now):
        raise InvalidApiKey()
    if found.organization_id != organization_id or not found.org.exists:
        raise OrganizationNotFound()
    ctx = OrgContext(
        organization_id=organization_id,
        user_id=None,
        role=None,
        is_platform_admin=False,
        status=found.org.status,
        owner_id=found.org.owner_id,
        now=now,
        api_key_id=found.api_key_id,
        key_permissions=frozenset(p for p in Permission if p.value in found.permissions),
    )
    return policies.visible(ctx)


# --------------------------------------------------------------------------- create, list, revoke


@dataclass(frozen=True, slots=True)
class CreatedKey:
    state: ApiKeyState
    key: str  # shown once


async def create_api_key(
    db: AsyncSession, ctx: OrgContext, *, name: str, permissions: list[Permission], expires_at: datetime | None
) -> CreatedKey:
    """A new key with `permissions` ⊆ the creator's own; the key is in the answer and nowhere else."""
    ctx, _ = await admit_locked(db, ctx, Action.CREATE_API_KEY)
    requested = frozenset(permissions)
    if not requested <= ctx.permissions:
        raise PermissionEscalation(meta={"not_held": sorted_permissions(requested - ctx.permissions)})
    if not requested <= KEY_GRANTABLE:
        raise PermissionNotGrantable(meta={"not_grantable": sorted_permissions(requested - KEY_GRANTABLE)})
    if expires_at is not None and expires_at <= ctx.now:
        raise ExpiryInThePast(pointer="/body/expires_at")
    assert ctx.user_id is not None  # keys never hold api_keys:create
    key, prefix, secret_hash = new_key()
    api_key_id = uuid.uuid4()
    names = [p.value for p in sorted_permissions(requested)]
    await repo.create_api_key(
        db,
        api_key_id=api_key_id,
        organization_id=ctx.organization_id,
        name=name,
        prefix=prefix,
        secret_hash=secret_hash,
        permissions=names,
        created_by=ctx.user_id,
        created_at=ctx.now,
        expires_at=expires_at,
    )
    state = ApiKeyState(
        id=api_key_id,
        organization_id=ctx.organization_id,
        name=name,
        prefix=prefix,
        permissions=tuple(names),
        created_by=ctx.user_id,
        created_at=ctx.now,
        expires_at=expires_at,
        revoked_at=None,
        last_used_at=None,
    )
    return CreatedKey(state=state, key=key)


async def list_api_keys(
    db: AsyncSession, ctx: OrgContext, *, before: tuple[datetime, uuid.UUID] | None = None, limit: int = 50
) -> Page[ApiKeyState]:
    """The organization's keys, newest first, revoked and expired ones included (no secrets)."""
    policies.require(ctx, Action.READ_API_KEYS)
    rows = await repo.api_keys_page(db, ctx.organization_id, before=before, limit=limit + 1)
    return page_of(rows, limit)


async def revoke_api_key(db: AsyncSession, ctx: OrgContext, *, api_key_id: uuid.UUID) -> None:
    """Revoke a key of this organization: its next request gets 401. Revoking twice is a no-op."""
    ctx, _ = await admit_locked(db, ctx, Action.REVOKE_API_KEY)
    if await repo.get_api_key(db, ctx.organization_id, api_key_id) is None:
        raise ApiKeyNotFound()
    await repo.revoke_api_key(
        db, api_key_id=api_key_id, at=ctx.now, actor_id=ctx.user_id, actor_api_key_id=ctx.api_key_id
    )
