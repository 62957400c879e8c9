"""Invitation requests and responses (SPEC §10)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.domain.invitations import InvitationState
from app.domain.vocabulary import InvitationStatus, Role
from app.schemas.common import StrictBody
from app.schemas.email import EmailToken


class InvitationCreate(StrictBody):
    email: Annotated[str, Field(max_length=320, description="Stored trimmed, NFKC-normalized, lowercase.")]
    role: Literal[Role.MEMBER, Role.ADMIN] = Field(Role.MEMBER, description="admin: only the owner may invite admins.")


class InvitationRead(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    role: Role
    status: InvitationStatus
    invited_by: uuid.UUID | None
    created_at: datetime
    expires_at: datetime
    responded_at: datetime | None

    @classmethod
    def of(cls, state: InvitationState) -> InvitationRead:
        return cls(
            id=state.id,
            organization_id=state.organization_id,
            email=state.email,
            role=state.role,
            status=state.status,
            invited_by=state.invited_by,
            created_at=state.created_at,
            expires_at=state.expires_at,
            responded_at=state.responded_at,
        )


class MyInvitationRead(InvitationRead):
    organization_name: str | None

    @classmethod
    def of(cls, state: InvitationState) -> MyInvitationRead:
        return cls(**InvitationRead.of(state).model_dump(), organization_name=state.organization_name)


class InvitationList(BaseModel):
    items: list[InvitationRead]
    next_cursor: str | None


class MyInvitationList(BaseModel):
    items: list[MyInvitationRead]
    next_cursor: str | None


class InvitationToken(StrictBody):
    token: EmailToken


class InvitationAccepted(BaseModel):
    organization_id: uuid.UUID
    role: str
