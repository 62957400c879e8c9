"""The caller's permissions in one organization (SPEC §11)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.domain.permissions import Permission


class PermissionsRead(BaseModel):
    role: Literal["owner", "admin", "member"] | None = Field(
        description="The caller's role here (null for a platform admin who is not a member)."
    )
    is_platform_admin: bool
    permissions: list[Permission] = Field(description="Catalog order; platform admins hold every permission.")
