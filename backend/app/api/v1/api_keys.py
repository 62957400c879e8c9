"""API keys of one organization (SPEC §11): create (the key shown once), list, revoke."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.api.deps import OrgContextDep, Requires, SessionDep, describe_permissions
from app.domain.permissions import Permission
from app.schemas import cursors
from app.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, api_key_read
from app.schemas.common import Cursor, Limit, ListResponse
from app.services import api_keys as service

router = APIRouter(prefix="/organizations", tags=["api keys"])


@router.post(
    "/{org_id}/api-keys", status_code=status.HTTP_201_CREATED, dependencies=[Requires(Permission.API_KEYS_CREATE)]
)
async def create_api_key(body: ApiKeyCreate, ctx: OrgContextDep, db: SessionDep) -> ApiKeyCreated:
    """Create a key with a subset of your own permissions; `key` is shown in this answer only."""
    created = await service.create_api_key(
        db, ctx, name=body.name, permissions=body.permissions, expires_at=body.expires_at
    )
    return ApiKeyCreated(**api_key_read(created.state).model_dump(), key=created.key)


@router.get("/{org_id}/api-keys", dependencies=[Requires(Permission.API_KEYS_READ)])
async def list_api_keys(
    ctx: OrgContextDep, db: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> ListResponse[ApiKeyRead]:
    """The organization's keys, newest first (revoked and expired ones too); never a secret."""
    page = await service.list_api_keys(db, ctx, before=cursors.API_KEYS.decode(cursor), limit=limit)
    next_cursor = cursors.API_KEYS.encode(page.items[-1].created_at, page.items[-1].id) if page.more else None
    return ListResponse(items=[api_key_read(k) for k in page.items], next_cursor=next_cursor)


@router.delete(
    "/{org_id}/api-keys/{api_key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    dependencies=[Requires(Permission.API_KEYS_REVOKE)],
)
async def revoke_api_key(api_key_id: uuid.UUID, ctx: OrgContextDep, db: SessionDep) -> Response:
    """Revoke a key: its next request gets 401 `invalid_api_key`."""
    await service.revoke_api_key(db, ctx, api_key_id=api_key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


describe_permissions(router)
