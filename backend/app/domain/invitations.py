"""Invitations as the services read them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from app.domain.vocabulary import InvitationStatus, Role


@dataclass(frozen=True, slots=True)
class InvitationState:
    seq: int  # the row's bigint id: orders an organization's invitations
    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    role: Role
    status: InvitationStatus
    invited_by: uuid.UUID | None
    created_at: datetime
    expires_at: datetime
    responded_at: datetime | None
    organization_name: str | None = None
