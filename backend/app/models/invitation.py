"""Invitations: one row per invitation (inserted once), and at most one response fact each."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.vocabulary import INVITABLE_ROLES, InvitationResponseKind
from app.models.base import AppendOnly, Base, KeyActed, kind_check, values_check


class Invitation(KeyActed, AppendOnly, Base):
    """`actor_id` (or the API key `actor_api_key_id`) invited `email` into the organization as
    `role`, until `expires_at`.

    `invitation_id` is the public id; the bigint `id` orders the organization's history.
    """

    __tablename__ = "invitations"
    __table_args__ = (
        Index("uq_invitations_invitation_id", "invitation_id", unique=True),
        # the organization's invitations newest first (lists, `/events`), and one email's pending ones
        Index("ix_invitations_history", "organization_id", text("occurred_at DESC"), text("id DESC")),
        Index("ix_invitations_org_email", "organization_id", "email", text("id DESC")),
        Index("ix_invitations_email", "email", text("id DESC")),
        values_check("role", INVITABLE_ROLES),
    )

    invitation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False
    )
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class InvitationResponse(KeyActed, AppendOnly, Base):
    """What became of an invitation: accepted, declined or revoked. Unique per invitation, so an
    invitation is answered once, whatever races."""

    __tablename__ = "invitation_responses"
    __table_args__ = (
        Index("uq_invitation_responses_invitation_id", "invitation_id", unique=True),
        Index("ix_invitation_responses_history", "organization_id", text("occurred_at DESC"), text("id DESC")),
        kind_check(InvitationResponseKind),
    )

    invitation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
