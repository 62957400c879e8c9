"""Requests and responses of the email flows (verification, password reset, email change)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from app.schemas.common import StrictBody
from app.schemas.users import PasswordField

EmailToken = Annotated[str, Field(min_length=1, max_length=128, description="The token from the emailed link.")]
EmailField = Annotated[str, Field(max_length=320)]


class EmailVerify(StrictBody):
    token: EmailToken


class EmailVerified(BaseModel):
    email: str
    email_verified: bool


class PasswordResetRequest(StrictBody):
    email: EmailField


class PasswordResetConfirm(StrictBody):
    token: EmailToken
    new_password: PasswordField = Field(description="12–256 characters; not a common password.")


class EmailChange(StrictBody):
    new_email: EmailField
    current_password: PasswordField


class Accepted(BaseModel):
    detail: str
