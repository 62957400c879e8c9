from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.vocabulary import ActiveKind, ArchiveKind, GrantKind, SuspensionKind
from app.models.base import AppendOnly, Base, kind_check, latest_indexes


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def _user_fk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), ForeignKey("users.id"), nullable=False)


class UserProfile(AppendOnly, Base):
    __tablename__ = "user_profile"
    __table_args__ = (*latest_indexes("user_profile"),)

    user_id: Mapped[uuid.UUID] = _user_fk()
    display_name: Mapped[str] = mapped_column(String(100), nullable=False)
    bio: Mapped[str | None] = mapped_column(Text)
    avatar_url: Mapped[str | None] = mapped_column(String(2048))


class UserLoginPassword(AppendOnly, Base):
    __tablename__ = "user_login_password"
    __table_args__ = (
        *latest_indexes("user_login_password", "email"),
        Index("ix_user_login_password_email", "email", text("id DESC"), postgresql_include=["user_id"]),
    )

    user_id: Mapped[uuid.UUID] = _user_fk()
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)


class UserActiveStatus(AppendOnly, Base):
    __tablename__ = "user_active_status"
    __table_args__ = (*latest_indexes("user_active_status", "kind"), kind_check(ActiveKind))

    user_id: Mapped[uuid.UUID] = _user_fk()
    kind: Mapped[str] = mapped_column(String(16), nullable=False)


class UserSuspension(AppendOnly, Base):
    __tablename__ = "user_suspensions"
    __table_args__ = (*latest_indexes("user_suspensions", "kind"), kind_check(SuspensionKind))

    user_id: Mapped[uuid.UUID] = _user_fk()
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)


class UserArchive(AppendOnly, Base):
    __tablename__ = "user_archives"
    __table_args__ = (*latest_indexes("user_archives", "kind"), kind_check(ArchiveKind))

    user_id: Mapped[uuid.UUID] = _user_fk()
    kind: Mapped[str] = mapped_column(String(16), nullable=False)


class PlatformAdminGrant(AppendOnly, Base):
    """Platform administrators (operators): granted / revoked, latest row per user."""

    __tablename__ = "platform_admin_grants"
    __table_args__ = (*latest_indexes("platform_admin_grants", "kind"), kind_check(GrantKind))

    user_id: Mapped[uuid.UUID] = _user_fk()
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
