"""API keys as the guard and the listings read them (never a secret nor its hash)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from app.domain.sessions import OrgAccess


@dataclass(frozen=True, slots=True)
class KeyPrincipal:
    """An API key as the guard found it, with its organization's standing (for the path's id)."""

    api_key_id: uuid.UUID
    organization_id: uuid.UUID  # the key's own organization
    permissions: tuple[str, ...]
    expires_at: datetime | None
    revoked: bool
    org: OrgAccess  # the organization named in the path


@dataclass(frozen=True, slots=True)
class ApiKeyState:
    """A key as listed: never its secret nor its hash."""

    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    prefix: str
    permissions: tuple[str, ...]
    created_by: uuid.UUID
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
