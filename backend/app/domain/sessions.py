"""Who is calling: the principal read model (session, user status, standing in one organization)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from app.domain.users import UserState
from app.domain.vocabulary import Role, Status


@dataclass(frozen=True, slots=True)
class OrgAccess:
    """The caller's standing in one organization, composed in the principal query (the guard turns
    it into the services' `OrgContext`)."""

    organization_id: uuid.UUID
    exists: bool
    role: Role | None  # owner | admin | member; None: not a member (or an API key)
    owner_id: uuid.UUID | None
    status: Status


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the session and the user's current status, read fresh on every request."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    session_created_at: datetime
    last_rotated_at: datetime | None
    session_organization_id: uuid.UUID | None
    revoked: bool
    user_status: Status
    is_platform_admin: bool
    org: OrgAccess | None = None
    # The `org` claim of the access token of this request (set by `authenticate`): a hint only.
    token_organization_id: uuid.UUID | None = None
    # The user's whole current state, when asked for (`GET /auth/me` reads it in the same query).
    user: UserState | None = None


@dataclass(frozen=True, slots=True)
class RotationLookup:
    """What a presented refresh token refers to."""

    session_id: uuid.UUID
    user_id: uuid.UUID
    is_latest: bool
    organization_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    user_agent: str | None
