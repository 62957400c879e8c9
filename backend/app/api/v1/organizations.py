"""Organizations (SPEC §6): parse, call one service, shape the answer.

Every `/{org_id}` route declares the one permission it needs (`Requires(Permission.X)`, checked by
the one tenancy guard: authentication and the caller's standing in one query; 404 for anything
the caller may not see) and takes the guard's `OrgContextDep`. The rules — status, permission
catalog, conflicts — live in `services/organizations.py`, `services/roster.py`,
`services/history.py`, `services/policies.py` and
`domain/permissions.py`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import AfterValidator

from app.api.deps import (
    ClockDep,
    CurrentPrincipal,
    OrgContextDep,
    Requires,
    SessionDep,
    SettingsDep,
    describe_permissions,
)
from app.domain.lifecycle import Transition
from app.domain.organizations import AdminEntry, MemberEntry, OrgEvent, OwnerEntry
from app.domain.permissions import Permission, sorted_permissions
from app.schemas import cursors
from app.schemas.common import Cursor, Limit, ListResponse, aware
from app.schemas.organizations import (
    AdminRead,
    EventRead,
    MemberAdd,
    MemberRead,
    MyOrganizationRead,
    OrganizationCreate,
    OrganizationRead,
    OrganizationUpdate,
    OwnerRead,
    SuspendBody,
    UserRef,
    my_organization_read,
    organization_read,
)
from app.schemas.permissions import PermissionsRead
from app.services import history, roster
from app.services import organizations as service

router = APIRouter(prefix="/organizations", tags=["organizations"])

AsOf = Annotated[
    datetime | None,
    AfterValidator(aware),
    Query(description="ISO-8601 instant: answer with the state at that instant (naive means UTC)."),
]


def _member(entry: MemberEntry) -> MemberRead:
    return MemberRead(user_id=entry.user_id, display_name=entry.display_name, role=entry.role, added_at=entry.added_at)


def _admin(entry: AdminEntry) -> AdminRead:
    return AdminRead(user_id=entry.user_id, display_name=entry.display_name, granted_at=entry.granted_at)


def _owner(entry: OwnerEntry) -> OwnerRead:
    return OwnerRead(user_id=entry.user_id, display_name=entry.display_name, since=entry.since)


def _event(event: OrgEvent) -> EventRead:
    return EventRead(
        id=event.id,
        type=event.type,
        actor_type=event.actor_type,
        actor_id=event.actor_api_key_id or event.actor_id,
        subject_id=event.subject_id,
        occurred_at=event.occurred_at,
        details=event.details,
    )


def _event_keys(event: OrgEvent) -> tuple[datetime, int, int]:
    return event.occurred_at, event.rank, event.seq


# ------------------------------------------------------------------------------- my orgs


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_organization(
    body: OrganizationCreate, db: SessionDep, principal: CurrentPrincipal, settings: SettingsDep, clock: ClockDep
) -> MyOrganizationRead:
    """Create an organization: the caller becomes its owner, member and admin."""
    membership = await service.found_organization(
        db,
        creator_id=principal.user_id,
        name=body.name,
        description=body.description,
        now=clock.now(),
        require_verified_email=settings.require_verified_email,
    )
    return my_organization_read(membership)


@router.get("")
async def list_my_organizations(
    db: SessionDep, principal: CurrentPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> ListResponse[MyOrganizationRead]:
    """The caller's organizations, with their role and each organization's status."""
    page = await service.list_my_organizations(
        db, user_id=principal.user_id, after=cursors.MY_ORGANIZATIONS.decode(cursor), limit=limit
    )
    next_cursor = cursors.MY_ORGANIZATIONS.encode(page.items[-1].organization.id) if page.more else None
    return ListResponse(items=[my_organization_read(m) for m in page.items], next_cursor=next_cursor)


# -------------------------------------------------------------------------- one organization


@router.get("/{org_id}", dependencies=[Requires(Permission.ORGANIZATION_READ)])
async def get_organization(ctx: OrgContextDep, db: SessionDep) -> OrganizationRead:
    return organization_read(await service.get_organization(db, ctx))


@router.get("/{org_id}/permissions", dependencies=[Requires(Permission.ORGANIZATION_READ)])
async def my_permissions(ctx: OrgContextDep) -> PermissionsRead:
    """What the caller may do here (catalog order), so a frontend can hide what it may not do.

    The organization's status rules apply on top (a suspended organization admits only reading
    itself; an inactive one is read-only); its `status` is in `GET /organizations/{org_id}`.
    """
    return PermissionsRead(
        role=ctx.role, is_platform_admin=ctx.is_platform_admin, permissions=sorted_permissions(ctx.permissions)
    )


@router.patch("/{org_id}", dependencies=[Requires(Permission.ORGANIZATION_UPDATE)])
async def update_organization(body: OrganizationUpdate, ctx: OrgContextDep, db: SessionDep) -> OrganizationRead:
    changes = body.model_dump(include=body.model_fields_set)
    return organization_read(await service.update_profile(db, ctx, **changes))


@router.post("/{org_id}/activate", dependencies=[Requires(Permission.ORGANIZATION_LIFECYCLE)])
async def activate(ctx: OrgContextDep, db: SessionDep) -> OrganizationRead:
    return organization_read(await service.change_status(db, ctx, Transition.ACTIVATE))


@router.post("/{org_id}/deactivate", dependencies=[Requires(Permission.ORGANIZATION_LIFECYCLE)])
async def deactivate(ctx: OrgContextDep, db: SessionDep) -> OrganizationRead:
    return organization_read(await service.change_status(db, ctx, Transition.DEACTIVATE))


@router.post("/{org_id}/suspend", dependencies=[Requires(Permission.ORGANIZATION_SUSPEND)])
async def suspend(body: SuspendBody, ctx: OrgContextDep, db: SessionDep) -> OrganizationRead:
    return organization_read(await service.change_status(db, ctx, Transition.SUSPEND, reason=body.reason))


@router.post("/{org_id}/unsuspend", dependencies=[Requires(Permission.ORGANIZATION_SUSPEND)])
async def unsuspend(ctx: OrgContextDep, db: SessionDep) -> OrganizationRead:
    return organization_read(await service.change_status(db, ctx, Transition.UNSUSPEND))


@router.post("/{org_id}/archive", dependencies=[Requires(Permission.ORGANIZATION_LIFECYCLE)])
async def archive(ctx: OrgContextDep, db: SessionDep) -> OrganizationRead:
    return organization_read(await service.change_status(db, ctx, Transition.ARCHIVE))


@router.post("/{org_id}/restore", dependencies=[Requires(Permission.ORGANIZATION_LIFECYCLE)])
async def restore(ctx: OrgContextDep, db: SessionDep) -> OrganizationRead:
    return organization_read(await service.change_status(db, ctx, Transition.RESTORE))


# ---------------------------------------------------------------------------------- members


@router.get("/{org_id}/members", dependencies=[Requires(Permission.MEMBERS_READ)])
async def list_members(
    ctx: OrgContextDep, db: SessionDep, limit: Limit = 50, cursor: Cursor = None, as_of: AsOf = None
) -> ListResponse[MemberRead]:
    page = await roster.list_members(db, ctx, after=cursors.MEMBERS.decode(cursor), limit=limit, as_of=as_of)
    next_cursor = cursors.MEMBERS.encode(page.items[-1].user_id) if page.more else None
    return ListResponse(items=[_member(m) for m in page.items], next_cursor=next_cursor)


@router.post(
    "/{org_id}/members",
    status_code=status.HTTP_201_CREATED,
    response_model=MemberRead,
    dependencies=[Requires(Permission.MEMBERS_ADD)],
    responses={429: {"description": "`too_many_requests` with `Retry-After`: too many adds by email this hour"}},
)
async def add_member(body: MemberAdd, ctx: OrgContextDep, db: SessionDep, settings: SettingsDep) -> Any:
    """Add an active user by id, or by email (rate-limited per caller; an unknown email and an
    account that cannot be added get the same 404 `user_not_found`)."""
    outcome = await roster.add_member(
        db, ctx, user_id=body.user_id, email=body.email, email_adds_per_hour=settings.member_email_adds_per_hour
    )
    return _member(outcome)


@router.delete(
    "/{org_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    dependencies=[Requires(Permission.MEMBERS_REMOVE, or_self="user_id")],
)
async def remove_member(user_id: uuid.UUID, ctx: OrgContextDep, db: SessionDep) -> Response:
    """Remove a member; with your own id, leave."""
    await roster.remove_member(db, ctx, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ----------------------------------------------------------------------------------- admins


@router.get("/{org_id}/admins", dependencies=[Requires(Permission.ADMINS_READ)])
async def list_admins(
    ctx: OrgContextDep, db: SessionDep, limit: Limit = 50, cursor: Cursor = None, as_of: AsOf = None
) -> ListResponse[AdminRead]:
    page = await roster.list_admins(db, ctx, after=cursors.ADMINS.decode(cursor), limit=limit, as_of=as_of)
    next_cursor = cursors.ADMINS.encode(page.items[-1].user_id) if page.more else None
    return ListResponse(items=[_admin(a) for a in page.items], next_cursor=next_cursor)


@router.post("/{org_id}/admins", status_code=status.HTTP_201_CREATED, dependencies=[Requires(Permission.ADMINS_GRANT)])
async def grant_admin(body: UserRef, ctx: OrgContextDep, db: SessionDep) -> AdminRead:
    return _admin(await roster.grant_admin(db, ctx, user_id=body.user_id))


@router.delete(
    "/{org_id}/admins/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    dependencies=[Requires(Permission.ADMINS_REVOKE)],
)
async def revoke_admin(user_id: uuid.UUID, ctx: OrgContextDep, db: SessionDep) -> Response:
    await roster.revoke_admin(db, ctx, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------------------------------ owner


@router.get("/{org_id}/owner", dependencies=[Requires(Permission.OWNER_READ)])
async def get_owner(ctx: OrgContextDep, db: SessionDep, as_of: AsOf = None) -> OwnerRead:
    return _owner(await roster.get_owner(db, ctx, as_of=as_of))


@router.post("/{org_id}/transfer-ownership", dependencies=[Requires(Permission.OWNERSHIP_TRANSFER)])
async def transfer_ownership(body: UserRef, ctx: OrgContextDep, db: SessionDep) -> OwnerRead:
    return _owner(await roster.transfer_ownership(db, ctx, user_id=body.user_id))


# ----------------------------------------------------------------------------------- events


@router.get("/{org_id}/events", dependencies=[Requires(Permission.EVENTS_READ)])
async def list_events(
    ctx: OrgContextDep, db: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> ListResponse[EventRead]:
    """The organization's whole history, newest first."""
    page = await history.list_events(db, ctx, before=cursors.EVENTS.decode(cursor), limit=limit)
    next_cursor = cursors.EVENTS.encode(*_event_keys(page.items[-1])) if page.more else None
    return ListResponse(items=[_event(e) for e in page.items], next_cursor=next_cursor)


describe_permissions(router)
