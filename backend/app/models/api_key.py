"""API keys (SPEC §11): a base row written once at creation, then facts — its revocation, its uses.

The secret is never stored: `secret_hash` is the SHA-256 of the whole key (see
`services/api_keys.py` for why a fast hash is right for 256-bit random secrets). `last_used_at`
is composed from `api_key_uses`, at most one row per key and minute (a unique index and
`ON CONFLICT DO NOTHING`), so a busy key does not write on every request.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index, String, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.permissions import Permission
from app.models.base import AppendOnly, Base, KeyActed

_CATALOG = ", ".join(f"'{p.value}'" for p in Permission)


class ApiKey(Base):
    """A key of one organization: name, public prefix, hash, permissions, creator, expiry."""

    __tablename__ = "api_keys"
    __table_args__ = (
        Index("uq_api_keys_secret_hash", "secret_hash", unique=True),
        Index("uq_api_keys_prefix", "prefix", unique=True),
        Index("ix_api_keys_organization", "organization_id", text("created_at DESC"), text("id DESC")),
        Index("ix_api_keys_history", "organization_id", text("created_at DESC"), text("seq DESC")),
        CheckConstraint("prefix ~ '^[0-9a-f]{12}$'", name="prefix_format"),
        CheckConstraint("secret_hash ~ '^[0-9a-f]{64}$'", name="secret_hash_format"),
        CheckConstraint("cardinality(permissions) >= 1", name="some_permission"),
        CheckConstraint("expires_at IS NULL OR expires_at > created_at", name="expires_after_creation"),
        # A catalog change needs a migration of this CHECK (test_migrations compares the names).
        CheckConstraint(f"permissions <@ ARRAY[{_CATALOG}]::varchar[]", name="known_permissions"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # The key's position in the organization's history (`/events` pages on (created_at, seq)).
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), nullable=False)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    permissions: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False)
    # Always a user: keys cannot hold `api_keys:create` (a leaked key could outlive its revocation).
    created_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiKeyRevocation(KeyActed, AppendOnly, Base):
    """The end of a key: effective on its next request. At most one per key."""

    __tablename__ = "api_key_revocations"
    __table_args__ = (Index("uq_api_key_revocations_api_key_id", "api_key_id", unique=True),)

    api_key_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("api_keys.id"), nullable=False)


class ApiKeyUse(AppendOnly, Base):
    """A key was used in this minute (the first request of the minute; `occurred_at` its instant)."""

    __tablename__ = "api_key_uses"
    __table_args__ = (
        Index("uq_api_key_uses_minute", "api_key_id", "minute", unique=True, postgresql_include=["occurred_at"]),
    )

    api_key_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("api_keys.id"), nullable=False)
    minute: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
