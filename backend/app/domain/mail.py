"""Outbox messages as the delivery loop reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    created_at: datetime
    kind: str
    recipient: str
    subject: str
    body: str
    link: str | None
    attempts: int = 0  # failed attempts so far


@dataclass(frozen=True, slots=True)
class MessageStatus:
    message: Message
    delivery: str | None  # sent | failed | None (not tried)
    error: str | None
    next_attempt_at: datetime | None
