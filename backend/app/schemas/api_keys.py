"""API key requests and responses (SPEC §11). The key itself appears once, in the creation answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from app.domain.api_keys import ApiKeyState
from app.domain.permissions import Permission
from app.schemas.common import StrictBody, single_line, utc_instant

KeyName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(single_line)
]


class ApiKeyCreate(StrictBody):
    name: KeyName
    permissions: list[Permission] = Field(
        min_length=1, max_length=len(Permission), description="Names from the permission catalog."
    )
    expires_at: Annotated[datetime, AfterValidator(utc_instant)] | None = Field(
        default=None, description="ISO-8601 instant (naive means UTC); none: the key does not expire."
    )


class ApiKeyRead(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    permissions: list[Permission]
    created_by: uuid.UUID
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(description="To the minute: uses are recorded once a minute per key.")
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The key, shown this once: send it as `X-API-Key`. Only its hash is stored.")


def api_key_read(state: ApiKeyState) -> ApiKeyRead:
    return ApiKeyRead(
        id=state.id,
        name=state.name,
        prefix=state.prefix,
        permissions=[Permission(p) for p in state.permissions],
        created_by=state.created_by,
        created_at=state.created_at,
        expires_at=state.expires_at,
        last_used_at=state.last_used_at,
        revoked_at=state.revoked_at,
    )
