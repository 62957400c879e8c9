"""Declarative base and the shape every append-only fact table shares."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index, MetaData, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AppendOnly:
    """One fact per row: its own bigint identity, when it happened, and who did it (null: the system).

    Rows are inserted once and never changed; the database enforces it with triggers (see the
    initial migration). Current state is the latest row per key; past state is the latest row
    per key with `occurred_at <= T`.
    """

    __tablename__: str

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)

    @declared_attr
    def actor_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(UUID(as_uuid=True), ForeignKey("users.id"), nullable=True)


class KeyActed:
    """Facts of an organization may be made through an API key (SPEC §11): then
    `actor_api_key_id` names the key and `actor_id` is null; both null is the system."""

    @declared_attr
    def actor_api_key_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(
            UUID(as_uuid=True),
            ForeignKey("api_keys.id"),
            CheckConstraint("actor_id IS NULL OR actor_api_key_id IS NULL", name="one_actor"),
            nullable=True,
        )


def latest_indexes(table: str, *include: str, key: str = "user_id") -> tuple[Index, Index]:
    """`latest` and `as of T` indexes for a fact table keyed by `key` (comma-separated columns).

    INCLUDE keeps the reads index-only: the latest index also carries `occurred_at`, which pages
    show (`added_at`, `granted_at`, `since`) and the as-of index has as a key column.
    """
    return (
        Index(f"ix_{table}_latest", *key.split(","), text("id DESC"), postgresql_include=[*include, "occurred_at"]),
        Index(
            f"ix_{table}_as_of",
            *key.split(","),
            text("occurred_at DESC"),
            text("id DESC"),
            postgresql_include=list(include),
        ),
    )


def values_check(column: str, values: Iterable[str]) -> CheckConstraint:
    """`column IN (...)` named after the column: the enum of `app.domain.vocabulary` is the list."""
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


def kind_check(kinds: Iterable[str]) -> CheckConstraint:
    return values_check("kind", kinds)
