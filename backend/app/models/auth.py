"""Authentication state: sessions and what happened to them, login attempts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Identity, Index, String, func, text
from sqlalchemy.dialects.postgresql import INET, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.vocabulary import RevocationReason
from app.models.base import AppendOnly, Base, latest_indexes, values_check


class Session(Base):
    """A login: created once. Its refresh tokens, active organization and end are events."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_user", "user_id", text("created_at DESC")),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    user_agent: Mapped[str | None] = mapped_column(String(512))
    ip_address: Mapped[str | None] = mapped_column(INET)


class SessionRotation(AppendOnly, Base):
    """A refresh token issued for a session (at login, on refresh, on switch-organization).

    The latest row per session holds the only refresh token that may be used; presenting an
    older one is reuse and revokes the session. `organization_id` is the session's active
    organization from this rotation on.
    """

    __tablename__ = "session_rotations"
    __table_args__ = (
        *latest_indexes("session_rotations", "token_hash", "organization_id", key="session_id"),
        Index("uq_session_rotations_token_hash", "token_hash", unique=True),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("sessions.id"), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("organizations.id"))


class SessionRevocation(AppendOnly, Base):
    """The end of a session, with its reason (logout, password_changed, reuse_detected, ...)."""

    __tablename__ = "session_revocations"
    __table_args__ = (
        *latest_indexes("session_revocations", "reason", key="session_id"),
        values_check("reason", RevocationReason),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("sessions.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)


class LoginAttempt(Base):
    """One login attempt, successful or not; throttling reads these (shared by every worker)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_account", "account_key", text("occurred_at DESC")),
        Index("ix_login_attempts_ip", "ip_address", text("occurred_at DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    account_key: Mapped[str] = mapped_column(String(254), nullable=False)
    ip_address: Mapped[str | None] = mapped_column(INET)
    succeeded: Mapped[bool] = mapped_column(Boolean, nullable=False)


class MemberEmailLookup(Base):
    """One `POST …/members {"email"}` by one caller (a user, or an API key), found or not: the
    per-caller rate limit (MEMBER_EMAIL_ADDS_PER_HOUR) counts these. Append-only."""

    __tablename__ = "member_email_lookups"
    __table_args__ = (Index("ix_member_email_lookups_caller", "caller", text("occurred_at DESC")),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    caller: Mapped[str] = mapped_column(String(64), nullable=False)
    organization_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
