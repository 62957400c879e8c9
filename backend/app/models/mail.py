"""Mail as facts: the outbox and its deliveries, single-use email tokens, verified addresses,
and the request log that throttles who may ask for mail."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import INET, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.vocabulary import DeliveryKind, EmailRequestKind, MessageKind, TokenPurpose
from app.models.base import AppendOnly, Base, kind_check, values_check


class OutboxMessage(AppendOnly, Base):
    """One email to send, appended in the transaction of the change that caused it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The delivery loop looks for undelivered messages among the recent ones only.
        Index("ix_outbox_messages_recent", text("occurred_at DESC"), text("id DESC")),
        kind_check(MessageKind),
    )

    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    link: Mapped[str | None] = mapped_column(Text)


class OutboxDelivery(AppendOnly, Base):
    """What happened to one attempt at sending a message: `sent`, or `failed` with the error and
    when to try again (null: given up)."""

    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        Index(
            "ix_outbox_deliveries_latest", "message_id", text("id DESC"), postgresql_include=["kind", "next_attempt_at"]
        ),
        kind_check(DeliveryKind),
    )

    message_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("outbox_messages.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EmailToken(AppendOnly, Base):
    """A token mailed to an address, stored only as its SHA-256. Inserted once; its use is a fact
    of `email_token_uses`."""

    __tablename__ = "email_tokens"
    __table_args__ = (
        Index("uq_email_tokens_token_hash", "token_hash", unique=True),
        values_check("purpose", TokenPurpose),
    )

    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class EmailTokenUse(AppendOnly, Base):
    """A token was used (unique: a token works once, also under concurrency)."""

    __tablename__ = "email_token_uses"
    __table_args__ = (Index("uq_email_token_uses_token_id", "token_id", unique=True),)

    token_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("email_tokens.id"), nullable=False)


class UserEmailVerification(AppendOnly, Base):
    """The user proved they own this address. `email_verified` = a fact for the current login email."""

    __tablename__ = "user_email_verifications"
    __table_args__ = (Index("ix_user_email_verifications_user_email", "user_id", "email"),)

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)


class EmailRequest(Base):
    """Someone asked for mail (a verification, an email change, a password reset): throttling reads
    these, for known and unknown addresses alike."""

    __tablename__ = "email_requests"
    __table_args__ = (
        Index("ix_email_requests_key", "kind", "key", text("occurred_at DESC")),
        Index("ix_email_requests_ip", "kind", "ip_address", text("occurred_at DESC")),
        kind_check(EmailRequestKind),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    key: Mapped[str] = mapped_column(String(254), nullable=False)
    ip_address: Mapped[str | None] = mapped_column(INET)
