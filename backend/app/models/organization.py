from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.vocabulary import ActiveKind, ArchiveKind, GrantKind, MemberKind, SuspensionKind
from app.models.base import AppendOnly, Base, KeyActed, kind_check, latest_indexes


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))


def _org_fk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False)


def _user_fk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), ForeignKey("users.id"), nullable=False)


ORG = "organization_id"
ORG_USER = "organization_id,user_id"


def history_index(table: str) -> Index:
    """One organization's facts newest first, for the `/events` feed (migration 0002; the key
    actor joined the INCLUDE list in 0005).

    The per-(org, user) indexes cannot serve "this organization, by time" without reading and
    sorting the organization's whole history; this one reads one page.
    """
    return Index(
        f"ix_{table}_history",
        "organization_id",
        text("occurred_at DESC"),
        text("id DESC"),
        postgresql_include=["user_id", "kind", "actor_id", "actor_api_key_id"],
    )


class OrganizationProfile(KeyActed, AppendOnly, Base):
    __tablename__ = "organization_profile"
    __table_args__ = (*latest_indexes("organization_profile", key=ORG),)

    organization_id: Mapped[uuid.UUID] = _org_fk()
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)


class OrganizationActiveStatus(KeyActed, AppendOnly, Base):
    __tablename__ = "organization_active_status"
    __table_args__ = (*latest_indexes("organization_active_status", "kind", key=ORG), kind_check(ActiveKind))

    organization_id: Mapped[uuid.UUID] = _org_fk()
    kind: Mapped[str] = mapped_column(String(16), nullable=False)


class OrganizationSuspension(KeyActed, AppendOnly, Base):
    __tablename__ = "organization_suspensions"
    __table_args__ = (*latest_indexes("organization_suspensions", "kind", key=ORG), kind_check(SuspensionKind))

    organization_id: Mapped[uuid.UUID] = _org_fk()
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)


class OrganizationArchive(KeyActed, AppendOnly, Base):
    __tablename__ = "organization_archives"
    __table_args__ = (*latest_indexes("organization_archives", "kind", key=ORG), kind_check(ArchiveKind))

    organization_id: Mapped[uuid.UUID] = _org_fk()
    kind: Mapped[str] = mapped_column(String(16), nullable=False)


class OrganizationMember(KeyActed, AppendOnly, Base):
    __tablename__ = "organization_members"
    __table_args__ = (
        *latest_indexes("organization_members", "kind", key=ORG_USER),
        # "my organizations": a user's memberships across organizations
        Index(
            "ix_organization_members_by_user",
            "user_id",
            "organization_id",
            text("id DESC"),
            postgresql_include=["kind"],
        ),
        history_index("organization_members"),
        kind_check(MemberKind),
    )

    organization_id: Mapped[uuid.UUID] = _org_fk()
    user_id: Mapped[uuid.UUID] = _user_fk()
    kind: Mapped[str] = mapped_column(String(16), nullable=False)


class OrganizationAdmin(KeyActed, AppendOnly, Base):
    __tablename__ = "organization_admins"
    __table_args__ = (
        *latest_indexes("organization_admins", "kind", key=ORG_USER),
        history_index("organization_admins"),
        kind_check(GrantKind),
    )

    organization_id: Mapped[uuid.UUID] = _org_fk()
    user_id: Mapped[uuid.UUID] = _user_fk()
    kind: Mapped[str] = mapped_column(String(16), nullable=False)


class OrganizationOwner(KeyActed, AppendOnly, Base):
    __tablename__ = "organization_owners"
    __table_args__ = (*latest_indexes("organization_owners", "user_id", key=ORG),)

    organization_id: Mapped[uuid.UUID] = _org_fk()
    user_id: Mapped[uuid.UUID] = _user_fk()
