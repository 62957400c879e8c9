"""Invitations (SPEC §10): the organization's side under `/organizations/{org_id}/invitations`,
the invitee's under `/invitations`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from app.api.deps import (
    ClockDep,
    CurrentPrincipal,
    OrgContextDep,
    Requires,
    SessionDep,
    SettingsDep,
    describe_permissions,
)
from app.domain.permissions import Permission
from app.domain.vocabulary import InvitationStatus
from app.schemas import cursors
from app.schemas.common import Cursor, Limit
from app.schemas.invitations import (
    InvitationAccepted,
    InvitationCreate,
    InvitationList,
    InvitationRead,
    InvitationToken,
    MyInvitationList,
    MyInvitationRead,
)
from app.services import invitations as service

org_router = APIRouter(tags=["invitations"])  # org-scoped: users and API keys, by permission
router = APIRouter(tags=["invitations"])  # the invitee's side: users only

_NOT_PENDING: dict[int | str, dict[str, Any]] = {409: {"description": "`invitation_not_pending`"}}
_BY_TOKEN: dict[int | str, dict[str, Any]] = {
    400: {"description": "`invalid_token`"},
    403: {"description": "`invitation_email_mismatch`, `organization_suspended`"},
    **_NOT_PENDING,
}


@org_router.post(
    "/organizations/{org_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationRead,
    responses={409: {"description": "`already_member`, `invitation_pending`, `organization_inactive`"}},
    dependencies=[Requires(Permission.INVITATIONS_CREATE)],
)
async def create_invitation(
    body: InvitationCreate, ctx: OrgContextDep, db: SessionDep, settings: SettingsDep
) -> InvitationRead:
    """Invite an email address (members: admins and the owner; admins: the owner). The link is mailed."""
    invitation = await service.create(db, settings, ctx, email=body.email, role=body.role)
    return InvitationRead.of(invitation)


@org_router.get(
    "/organizations/{org_id}/invitations",
    response_model=InvitationList,
    dependencies=[Requires(Permission.INVITATIONS_READ)],
)
async def list_invitations(
    ctx: OrgContextDep,
    db: SessionDep,
    status: Annotated[InvitationStatus | None, Query(description="Only invitations in this status.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> InvitationList:
    """The organization's invitations, newest first (admins and up)."""
    page = await service.list_for_organization(
        db, ctx, status=status, before=cursors.INVITATIONS.decode(cursor), limit=limit
    )
    return InvitationList(
        items=[InvitationRead.of(i) for i in page.items],
        next_cursor=cursors.INVITATIONS.encode(page.items[-1].seq) if page.more else None,
    )


@org_router.delete(
    "/organizations/{org_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_NOT_PENDING,
    dependencies=[Requires(Permission.INVITATIONS_REVOKE)],
)
async def revoke_invitation(invitation_id: uuid.UUID, ctx: OrgContextDep, db: SessionDep) -> Response:
    """Revoke a pending invitation (admins and up); its link stops working."""
    await service.revoke(db, ctx, invitation_id=invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/invitations", response_model=MyInvitationList)
async def my_invitations(
    principal: CurrentPrincipal, db: SessionDep, clock: ClockDep, limit: Limit = 50, cursor: Cursor = None
) -> MyInvitationList:
    """Your pending invitations, with the organization's name — once your email is verified
    (until then the list is empty)."""
    page = await service.mine(
        db, principal=principal, now=clock.now(), before=cursors.INVITATIONS.decode(cursor), limit=limit
    )
    return MyInvitationList(
        items=[MyInvitationRead.of(i) for i in page.items],
        next_cursor=cursors.INVITATIONS.encode(page.items[-1].seq) if page.more else None,
    )


@router.post("/invitations/accept", response_model=InvitationAccepted, responses=_BY_TOKEN)
async def accept_by_token(
    body: InvitationToken, principal: CurrentPrincipal, db: SessionDep, clock: ClockDep
) -> InvitationAccepted:
    """Accept with the emailed token; your login email must be the invited one."""
    result = await service.accept_by_token(db, principal=principal, token=body.token, now=clock.now())
    return InvitationAccepted(organization_id=result.organization_id, role=result.role)


@router.post(
    "/invitations/decline",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={400: {"description": "`invalid_token`"}, **_NOT_PENDING},
)
async def decline_by_token(body: InvitationToken, db: SessionDep, clock: ClockDep) -> Response:
    """Decline with the emailed token (no account needed: the token proves the address)."""
    await service.decline_by_token(db, token=body.token, now=clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/invitations/{invitation_id}/accept", response_model=InvitationAccepted, responses=_NOT_PENDING)
async def accept_by_id(
    invitation_id: uuid.UUID, principal: CurrentPrincipal, db: SessionDep, clock: ClockDep
) -> InvitationAccepted:
    """Accept one of your invitations (`GET /invitations`) without the token: needs a verified email."""
    result = await service.accept_by_id(db, principal=principal, invitation_id=invitation_id, now=clock.now())
    return InvitationAccepted(organization_id=result.organization_id, role=result.role)


@router.post("/invitations/{invitation_id}/decline", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_PENDING)
async def decline_by_id(
    invitation_id: uuid.UUID, principal: CurrentPrincipal, db: SessionDep, clock: ClockDep
) -> Response:
    """Decline one of your invitations without the token: needs a verified email."""
    await service.decline_by_id(db, principal=principal, invitation_id=invitation_id, now=clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


describe_permissions(org_router)
