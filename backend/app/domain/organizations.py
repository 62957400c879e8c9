"""Organizations as the services read them: state, standing, roster entries, history events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.events import EventType
from app.domain.lifecycle import Flags
from app.domain.vocabulary import ActorType, Role, Status


def role_of(user_id: uuid.UUID, *, is_member: bool, is_admin: bool, owner_id: uuid.UUID | None) -> Role | None:
    """owner > admin (a member with a grant) > member > None."""
    if not is_member:
        return None
    if owner_id == user_id:
        return Role.OWNER
    return Role.ADMIN if is_admin else Role.MEMBER


@dataclass(frozen=True, slots=True)
class OrgState:
    id: uuid.UUID
    created_at: datetime
    created_by: uuid.UUID | None
    name: str
    description: str | None
    status: Status
    owner_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """One user's current membership and admin grant in one organization."""

    is_member: bool
    is_admin: bool


@dataclass(frozen=True, slots=True)
class OrgStanding:
    """An organization's current state with its raw status facts, and the facts of some users.

    What a mutation re-reads inside the organization lock before it applies a rule.
    """

    state: OrgState
    lifecycle: Flags  # the facts behind `state.status`
    users: dict[uuid.UUID, MemberFacts]

    def facts(self, user_id: uuid.UUID) -> MemberFacts:
        return self.users.get(user_id, MemberFacts(is_member=False, is_admin=False))

    def role(self, user_id: uuid.UUID) -> Role | None:
        facts = self.facts(user_id)
        return role_of(user_id, is_member=facts.is_member, is_admin=facts.is_admin, owner_id=self.state.owner_id)


@dataclass(frozen=True, slots=True)
class Membership:
    """One organization the user currently belongs to, with the user's role there."""

    organization: OrgState
    role: Role
    added_at: datetime


@dataclass(frozen=True, slots=True)
class MemberEntry:
    user_id: uuid.UUID
    display_name: str | None
    role: Role
    added_at: datetime


@dataclass(frozen=True, slots=True)
class AdminEntry:
    user_id: uuid.UUID
    display_name: str | None
    granted_at: datetime


@dataclass(frozen=True, slots=True)
class OwnerEntry:
    user_id: uuid.UUID
    display_name: str | None
    since: datetime


@dataclass(frozen=True, slots=True)
class OrgEvent:
    """One fact of the organization's history. `(occurred_at, rank, seq)` orders and pages them."""

    source: str
    rank: int
    seq: int
    type: EventType
    actor_id: uuid.UUID | None  # the user; None for a key or the system
    subject_id: uuid.UUID | None
    occurred_at: datetime
    details: dict[str, Any]
    actor_api_key_id: uuid.UUID | None = None  # the API key that acted

    @property
    def id(self) -> str:
        return f"{self.source}:{self.seq}"

    @property
    def actor_type(self) -> ActorType:
        """`api_key`, `user` or `system` (SPEC §11)."""
        if self.actor_api_key_id is not None:
            return ActorType.API_KEY
        return ActorType.USER if self.actor_id is not None else ActorType.SYSTEM


@dataclass(frozen=True, slots=True)
class EventPosition:
    """Keyset position in the history: events strictly older than this one come next."""

    occurred_at: datetime
    rank: int
    seq: int
