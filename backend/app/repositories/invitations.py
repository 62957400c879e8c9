"""Invitations: the invitation rows and their one response each, composed into a status.

Status: the response's kind (accepted | declined | revoked) when there is one; otherwise
`expired` from `expires_at` on (by the caller's clock), else `pending`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, false, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.invitations import InvitationState
from app.domain.vocabulary import ArchiveKind, InvitationResponseKind, InvitationStatus, Role
from app.models import Invitation, InvitationResponse, OrganizationArchive, OrganizationProfile
from app.repositories.facts import append, latest_column, latest_kind


async def add_invitation(
    db: AsyncSession,
    *,
    invitation_id: uuid.UUID,
    organization_id: uuid.UUID,
    email: str,
    role: str,
    expires_at: datetime,
    at: datetime,
    actor_id: uuid.UUID | None,
    actor_api_key_id: uuid.UUID | None = None,
) -> int:
    return await append(
        db,
        Invitation,
        occurred_at=at,
        actor_id=actor_id,
        actor_api_key_id=actor_api_key_id,
        invitation_id=invitation_id,
        organization_id=organization_id,
        email=email,
        role=role,
        expires_at=expires_at,
    )


async def add_response(
    db: AsyncSession,
    *,
    invitation_id: uuid.UUID,
    organization_id: uuid.UUID,
    kind: InvitationResponseKind,
    at: datetime,
    actor_id: uuid.UUID | None,
    actor_api_key_id: uuid.UUID | None = None,
) -> None:
    await append(
        db,
        InvitationResponse,
        occurred_at=at,
        actor_id=actor_id,
        actor_api_key_id=actor_api_key_id,
        invitation_id=invitation_id,
        organization_id=organization_id,
        kind=kind,
    )


def _status(now: datetime) -> Any:
    r = InvitationResponse.__table__.c
    return case(
        (r.kind.is_not(None), r.kind),
        (Invitation.expires_at <= now, literal(InvitationStatus.EXPIRED.value)),
        else_=literal(InvitationStatus.PENDING.value),
    )


def _select(now: datetime, *extra: Any) -> Any:
    r = InvitationResponse.__table__.c
    return select(
        Invitation.id.label("seq"),
        Invitation.invitation_id,
        Invitation.organization_id,
        Invitation.email,
        Invitation.role,
        _status(now).label("status"),
        Invitation.actor_id,
        Invitation.occurred_at,
        Invitation.expires_at,
        r.occurred_at.label("responded_at"),
        *extra,
    ).outerjoin(InvitationResponse, InvitationResponse.invitation_id == Invitation.invitation_id)


def _state(row: Any) -> InvitationState:
    return InvitationState(
        seq=row.seq,
        id=row.invitation_id,
        organization_id=row.organization_id,
        email=row.email,
        role=Role(row.role),
        status=InvitationStatus(row.status),
        invited_by=row.actor_id,
        created_at=row.occurred_at,
        expires_at=row.expires_at,
        responded_at=row.responded_at,
        organization_name=getattr(row, "organization_name", None),
    )


async def get(db: AsyncSession, invitation_id: uuid.UUID, *, now: datetime) -> InvitationState | None:
    row = (await db.execute(_select(now).where(Invitation.invitation_id == invitation_id))).one_or_none()
    return _state(row) if row else None


async def has_pending(db: AsyncSession, organization_id: uuid.UUID, email: str, *, now: datetime) -> bool:
    """Is there a pending invitation for this email into this organization? (ix_invitations_org_email)"""
    stmt = (
        _select(now)
        .where(Invitation.organization_id == organization_id, Invitation.email == email)
        .where(InvitationResponse.id.is_(None), Invitation.expires_at > now)
        .limit(1)
    )
    return (await db.execute(stmt)).first() is not None


async def nth_latest_to(
    db: AsyncSession, organization_id: uuid.UUID, email: str, *, since: datetime, n: int
) -> datetime | None:
    """When the n-th most recent invitation of this email into this organization after `since`
    was made (None: fewer than n). ix_invitations_org_email."""
    stmt = (
        select(Invitation.occurred_at)
        .where(Invitation.organization_id == organization_id, Invitation.email == email, Invitation.occurred_at > since)
        .order_by(Invitation.id.desc())
        .offset(n - 1)
        .limit(1)
    )
    return (await db.execute(stmt)).scalar_one_or_none()


def _status_filter(status: InvitationStatus | None, now: datetime) -> Any:
    r = InvitationResponse.__table__.c
    if status is None:
        return literal(True)
    if status == InvitationStatus.PENDING:
        return and_(r.kind.is_(None), Invitation.expires_at > now)
    if status == InvitationStatus.EXPIRED:
        return and_(r.kind.is_(None), Invitation.expires_at <= now)
    if status in (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED, InvitationStatus.REVOKED):
        return r.kind == status.value  # an answered invitation's status is its answer's kind
    return false()


async def organization_page(
    db: AsyncSession,
    organization_id: uuid.UUID,
    *,
    now: datetime,
    status: InvitationStatus | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[InvitationState]:
    """The organization's invitations, newest first, optionally of one status (ix_invitations_history)."""
    stmt = (
        _select(now)
        .where(Invitation.organization_id == organization_id, _status_filter(status, now))
        .order_by(Invitation.id.desc())
        .limit(limit)
    )
    if before is not None:
        stmt = stmt.where(Invitation.id < before)
    return [_state(row) for row in (await db.execute(stmt)).all()]


async def pending_for_email(
    db: AsyncSession, email: str, *, now: datetime, before: int | None = None, limit: int = 50
) -> list[InvitationState]:
    """Pending invitations of one email address, newest first, with the organization's name;
    invitations into archived organizations are left out (they are invisible)."""
    org_id = Invitation.organization_id
    archive_kind = latest_kind(OrganizationArchive, {"organization_id": org_id})
    stmt = (
        _select(now, latest_column(OrganizationProfile, "name", {"organization_id": org_id}).label("organization_name"))
        .where(Invitation.email == email, _status_filter(InvitationStatus.PENDING, now))
        .where(archive_kind.is_distinct_from(ArchiveKind.ARCHIVED.value))
        .order_by(Invitation.id.desc())
        .limit(limit)
    )
    if before is not None:
        stmt = stmt.where(Invitation.id < before)
    return [_state(row) for row in (await db.execute(stmt)).all()]
