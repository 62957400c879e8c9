"""Organization requests and responses (SPEC §6 shapes; request bodies forbid unknown fields)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, model_validator

from app.domain.organizations import Membership, OrgState
from app.schemas.common import StrictBody, multi_line, single_line

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(single_line)
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), AfterValidator(multi_line)]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), AfterValidator(multi_line)
]


class OrganizationCreate(StrictBody):
    name: Name
    description: Description | None = None


class OrganizationUpdate(StrictBody):
    """Only the fields sent change; `description: null` clears it. At least one field."""

    name: Name | None = None
    description: Description | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> OrganizationUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one of name, description")
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null")
        return self


class SuspendBody(StrictBody):
    reason: Reason


class MemberAdd(StrictBody):
    """Exactly one of `user_id` and `email`."""

    user_id: uuid.UUID | None = None
    email: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254), AfterValidator(single_line)
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _exactly_one(self) -> MemberAdd:
        if (self.user_id is None) == (self.email is None):
            raise ValueError("send exactly one of user_id, email")
        return self


class UserRef(StrictBody):
    """Grant admin, transfer ownership."""

    user_id: uuid.UUID


class OrganizationRead(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    status: str
    created_at: datetime


class MyOrganizationRead(OrganizationRead):
    role: str


class MemberRead(BaseModel):
    user_id: uuid.UUID
    display_name: str | None
    role: str
    added_at: datetime


class AdminRead(BaseModel):
    user_id: uuid.UUID
    display_name: str | None
    granted_at: datetime


class OwnerRead(BaseModel):
    user_id: uuid.UUID
    display_name: str | None
    since: datetime


class EventRead(BaseModel):
    id: str = Field(description='Unique across the history, e.g. "member:123".')
    type: str
    actor_type: Literal["user", "api_key", "system"] = Field(
        description="Who acted: a user, an API key of the organization, or the system."
    )
    actor_id: uuid.UUID | None = Field(
        description="The user's id, or the API key's id for `api_key`; null for the system."
    )
    subject_id: uuid.UUID | None
    occurred_at: datetime
    details: dict[str, Any]


def organization_read(state: OrgState) -> OrganizationRead:
    return OrganizationRead(
        id=state.id, name=state.name, description=state.description, status=state.status, created_at=state.created_at
    )


def my_organization_read(membership: Membership) -> MyOrganizationRead:
    org = membership.organization
    return MyOrganizationRead(
        id=org.id,
        name=org.name,
        description=org.description,
        status=org.status,
        created_at=org.created_at,
        role=membership.role,
    )
