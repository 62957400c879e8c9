"""User requests and responses. Request bodies forbid unknown fields (422): nobody can slip in
`status`, `is_platform_admin`, `email` or a hash."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, model_validator

from app.domain.users import UserState
from app.schemas.common import StrictBody, multi_line, single_line

DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(single_line)
]
Bio = Annotated[str, StringConstraints(max_length=2000), AfterValidator(multi_line)]
# Passwords are measured by the password policy (12–256 after normalization, with specific error
# codes); this bound only keeps absurd inputs out of the parser.
PasswordField = Annotated[str, Field(max_length=1024)]


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() or unicodedata.category(c) == "Cc" for c in value)
    ):
        raise ValueError("must be an http(s) URL")
    return value


AvatarUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048), AfterValidator(_http_url)
]


class UserRead(BaseModel):
    id: uuid.UUID
    email: str | None = Field(description="Only for the user themself and platform administrators.")
    display_name: str | None
    bio: str | None
    avatar_url: str | None
    status: str = Field(description="active | inactive | suspended | archived")
    email_verified: bool = Field(description="Whether the user proved they own their login email.")
    created_at: datetime

    @classmethod
    def of(cls, user: UserState, *, with_email: bool) -> UserRead:
        return cls(
            id=user.id,
            email=user.email if with_email else None,
            display_name=user.display_name,
            bio=user.bio,
            avatar_url=user.avatar_url,
            status=user.status,
            email_verified=user.email_verified,
            created_at=user.created_at,
        )


class ProfileUpdate(StrictBody):
    """Only the fields sent change; `bio: null` / `avatar_url: null` clear them."""

    display_name: DisplayName | None = None
    bio: Bio | None = None
    avatar_url: AvatarUrl | None = None

    @model_validator(mode="after")
    def _display_name_not_null(self) -> ProfileUpdate:
        if "display_name" in self.model_fields_set and self.display_name is None:
            raise ValueError("display_name cannot be null")
        return self

    def changes(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class PasswordChange(StrictBody):
    current_password: PasswordField
    new_password: PasswordField = Field(description="12–256 characters; not a common password.")


class UserSuspend(StrictBody):
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), AfterValidator(multi_line)
    ]
