"""The console's session responses: the access token only — the refresh token stays in a cookie."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import StrictBody


class ConsoleTokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    organization_id: uuid.UUID | None = Field(description="The session's active organization.")


class ConsoleSwitch(StrictBody):
    """The refresh token comes from the cookie, never from the body."""

    organization_id: uuid.UUID
