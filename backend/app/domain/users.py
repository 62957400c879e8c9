"""Users as the services read them: composed current state, credentials, login candidates, attempts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from app.domain.lifecycle import NO_FACTS, Flags
from app.domain.vocabulary import Status


@dataclass(frozen=True, slots=True)
class UserState:
    id: uuid.UUID
    created_at: datetime
    email: str | None
    display_name: str | None
    bio: str | None
    avatar_url: str | None
    is_platform_admin: bool
    # The three independent facts behind `status` (a user can be deactivated and suspended at once).
    lifecycle: Flags = NO_FACTS
    email_verified: bool = False  # a verification fact for the current login email

    @property
    def status(self) -> Status:
        return self.lifecycle.status

    @property
    def is_active(self) -> bool:
        return self.status == Status.ACTIVE


@dataclass(frozen=True, slots=True)
class Credential:
    user_id: uuid.UUID
    email: str
    password_hash: str


@dataclass(frozen=True, slots=True)
class LoginCandidate:
    """The current credential for an email and its user's status, for the login check."""

    user_id: uuid.UUID
    password_hash: str
    status: Status
    email_verified: bool = False


@dataclass(frozen=True, slots=True)
class Attempt:
    occurred_at: datetime
    succeeded: bool
    seq: int = 0  # the row's id: orders attempts of one instant (a success after its attempt)
