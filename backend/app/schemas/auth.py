"""Auth requests and responses. JSON request bodies forbid unknown fields (422)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.schemas.common import StrictBody, single_line
from app.schemas.organizations import MyOrganizationRead, OrganizationRead
from app.schemas.users import DisplayName, PasswordField, UserRead

# Login accepts any string as the email (no syntax check: a malformed one is simply unknown).
LoginEmail = Annotated[str, Field(max_length=320)]
OrganizationName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(single_line)
]
RefreshTokenField = Annotated[str, Field(min_length=1, max_length=512)]


class UserRegister(StrictBody):
    email: Annotated[str, Field(max_length=320, description="Stored trimmed, NFKC-normalized, lowercase.")]
    password: Annotated[str, Field(max_length=1024, description="12–256 characters; not a common password.")]
    display_name: DisplayName
    organization_name: OrganizationName | None = Field(
        None, description="Creates your first organization, with you as its owner."
    )
    invitation_token: Annotated[str, Field(min_length=1, max_length=128)] | None = Field(
        None, description="The token of an invitation to this email: you join its organization at once, verified."
    )


class RegistrationRead(BaseModel):
    user: UserRead
    organization: OrganizationRead | None


class TokenCreate(StrictBody):
    """JSON login."""

    email: LoginEmail
    password: PasswordField
    organization_id: uuid.UUID | None = None


class TokenForm(BaseModel):
    """OAuth2 password grant, form-encoded (RFC 6749 §4.3), as Swagger's Authorize button sends it.

    The standard's own parameters are accepted (and ignored); anything else is refused.
    """

    model_config = ConfigDict(extra="forbid")

    username: LoginEmail
    password: PasswordField
    grant_type: Literal["password"] | None = None
    scope: str = ""
    client_id: str | None = None
    client_secret: str | None = None
    organization_id: uuid.UUID | None = None


class TokenRead(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    organization_id: uuid.UUID | None = Field(description="The session's active organization.")


class TokenRefresh(StrictBody):
    refresh_token: RefreshTokenField


class LogoutBody(StrictBody):
    refresh_token: RefreshTokenField | None = None


class OrganizationSwitch(StrictBody):
    organization_id: uuid.UUID
    refresh_token: RefreshTokenField | None = Field(
        None,
        description="The session's current refresh token: rotated, and a new pair returned. Without it: "
        "only a new access token.",
    )


class AccessTokenRead(BaseModel):
    """Switching with the access token alone: a new access token, never a refresh token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    organization_id: uuid.UUID | None = Field(description="The organization this access token carries.")


class MeRead(BaseModel):
    user: UserRead
    status: str
    is_platform_admin: bool
    session_id: uuid.UUID
    active_organization: MyOrganizationRead | None = Field(
        description="The session's active organization with your role (null: none, or no longer a member)."
    )
    memberships: list[MyOrganizationRead] = Field(description="Your organizations with your role (first 100).")


class SessionRead(BaseModel):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime = Field(description="Login or last refresh.")
    user_agent: str | None
    current: bool


class SessionList(BaseModel):
    items: list[SessionRead]
    next_cursor: str | None
