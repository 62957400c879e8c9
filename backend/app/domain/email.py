"""Email tokens (verification, reset, change) as the services read them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: int
    purpose: str
    user_id: uuid.UUID | None
    email: str
    created_at: datetime
    expires_at: datetime
    invitation_id: uuid.UUID | None
    used: bool
