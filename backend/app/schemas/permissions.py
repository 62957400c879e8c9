"""The caller's permissions in one organization (SPEC §11)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.domain.permissions import Permission
from app.domain.vocabulary import Role


class PermissionsRead(BaseModel):
    role: Role | None = Field(description="The caller's role here (null for a platform admin who is not a member).")
    is_platform_admin: bool
    permissions: list[Permission] = Field(description="Catalog order; platform admins hold every permission.")
