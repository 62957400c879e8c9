"""API keys of one organization (SPEC §11): create (the key shown once), list, revoke."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Response, status

from app.api.deps import OrgContextDep, Requires, SessionDep, describe_permissions
from app.domain.api_keys import ApiKeyState
from app.domain.errors import InvalidCursor
from app.domain.permissions import Permission
from app.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, api_key_read
from app.schemas.common import Cursor, Limit, ListResponse, cursor_instant, decode_cursor, encode_cursor
from app.services import api_keys as service

router = APIRouter(prefix="/organizations", tags=["api keys"])


def _cursor(state: ApiKeyState) -> str:
    return encode_cursor({"k": "api_keys", "t": state.created_at.isoformat(), "i": str(state.id)})


def _position(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    data = decode_cursor(cursor, "api_keys")
    raw_id = data.get("i")
    if not isinstance(raw_id, str):
        raise InvalidCursor()
    try:
        key_id = uuid.UUID(raw_id)
    except ValueError as exc:
        raise InvalidCursor() from exc
    return cursor_instant(data.get("t")), key_id


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
    page = await service.list_api_keys(db, ctx, before=_position(cursor), limit=limit)
    next_cursor = _cursor(page.items[-1]) if page.more else None
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
