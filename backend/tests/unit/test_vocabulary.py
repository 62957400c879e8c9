"""The vocabulary in `app.domain` is the one the tables accept and the API speaks."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import CheckConstraint

from app.domain.events import EVENT_RANKS, EVENT_TYPES, EventSource, EventType, event_type
from app.domain.lifecycle import Flags
from app.domain.vocabulary import (
    INVITABLE_ROLES,
    ActiveKind,
    ArchiveKind,
    DeliveryKind,
    EmailRequestKind,
    GrantKind,
    InvitationResponseKind,
    MemberKind,
    MessageKind,
    RevocationReason,
    Status,
    SuspensionKind,
    TokenPurpose,
)
from app.models import Base

KIND_OF_TABLE = {
    "organization_members": MemberKind,
    "organization_admins": GrantKind,
    "platform_admin_grants": GrantKind,
    "organization_active_status": ActiveKind,
    "user_active_status": ActiveKind,
    "organization_suspensions": SuspensionKind,
    "user_suspensions": SuspensionKind,
    "organization_archives": ArchiveKind,
    "user_archives": ArchiveKind,
    "invitation_responses": InvitationResponseKind,
    "outbox_messages": MessageKind,
    "outbox_deliveries": DeliveryKind,
    "email_requests": EmailRequestKind,
}


def _allowed(table: str, column: str) -> set[str]:
    for constraint in Base.metadata.tables[table].constraints:
        if isinstance(constraint, CheckConstraint):
            text = str(constraint.sqltext)
            if re.match(rf"^{column} IN \(", text):
                return set(re.findall(r"'([^']*)'", text))
    raise AssertionError(f"{table}.{column} has no CHECK constraint")


@pytest.mark.parametrize("table", sorted(KIND_OF_TABLE))
def test_every_kind_column_accepts_exactly_its_enum(table: str) -> None:
    assert _allowed(table, "kind") == {k.value for k in KIND_OF_TABLE[table]}


def test_every_kind_column_is_covered() -> None:
    with_kind = {t.name for t in Base.metadata.sorted_tables if "kind" in t.c}
    assert with_kind == set(KIND_OF_TABLE)


def test_revocation_reasons_purposes_and_invited_roles_are_checked() -> None:
    assert _allowed("session_revocations", "reason") == {r.value for r in RevocationReason}
    assert _allowed("email_tokens", "purpose") == {p.value for p in TokenPurpose}
    assert _allowed("invitations", "role") == {r.value for r in INVITABLE_ROLES}


# Part of the API contract (SPEC §7): changing one of these is a breaking change.
PUBLIC_NAMES = {
    (EventSource.PROFILE, "created"): "organization.created",
    (EventSource.PROFILE, "updated"): "organization.profile_updated",
    (EventSource.MEMBER, "added"): "member.added",
    (EventSource.MEMBER, "removed"): "member.removed",
    (EventSource.ADMIN, "granted"): "admin.granted",
    (EventSource.ADMIN, "revoked"): "admin.revoked",
    (EventSource.OWNER, "set"): "owner.changed",
    (EventSource.STATUS, "activated"): "organization.activated",
    (EventSource.STATUS, "deactivated"): "organization.deactivated",
    (EventSource.SUSPENSION, "suspended"): "organization.suspended",
    (EventSource.SUSPENSION, "lifted"): "organization.unsuspended",
    (EventSource.ARCHIVE, "archived"): "organization.archived",
    (EventSource.ARCHIVE, "restored"): "organization.restored",
    (EventSource.INVITATION, "sent"): "invitation.created",
    (EventSource.INVITATION_RESPONSE, "accepted"): "invitation.accepted",
    (EventSource.INVITATION_RESPONSE, "declined"): "invitation.declined",
    (EventSource.INVITATION_RESPONSE, "revoked"): "invitation.revoked",
    (EventSource.API_KEY, "created"): "api_key.created",
    (EventSource.API_KEY_REVOCATION, "revoked"): "api_key.revoked",
}


def test_public_event_names_are_pinned() -> None:
    assert {key: str(value) for key, value in EVENT_TYPES.items()} == PUBLIC_NAMES
    assert {str(t) for t in EventType} == set(PUBLIC_NAMES.values())


@pytest.mark.parametrize(
    ("source", "kinds"),
    [
        (EventSource.MEMBER, MemberKind),
        (EventSource.ADMIN, GrantKind),
        (EventSource.STATUS, ActiveKind),
        (EventSource.SUSPENSION, SuspensionKind),
        (EventSource.ARCHIVE, ArchiveKind),
        (EventSource.INVITATION_RESPONSE, InvitationResponseKind),
    ],
)
def test_every_stored_kind_has_a_public_type(source: EventSource, kinds: type) -> None:
    assert all(event_type(source, kind) for kind in kinds)


def test_an_unknown_fact_is_an_error_not_a_made_up_name() -> None:
    with pytest.raises(KeyError):
        event_type("member", "promoted")


def test_ranks_order_one_instant() -> None:
    """Newest first within an instant: a creation reads owner → admin → member → created; an
    invitation's answer is newer than every roster and status fact of its instant (an accept adds
    the member at the same instant) and its creation the oldest; a key's revocation is newer than
    its creation (key facts share no request with roster facts)."""
    rank = EVENT_RANKS.__getitem__
    assert rank(EventSource.OWNER) > rank(EventSource.ADMIN) > rank(EventSource.MEMBER) > rank(EventSource.PROFILE)
    keys = {EventSource.API_KEY, EventSource.API_KEY_REVOCATION}
    org_facts = [r for source, r in EVENT_RANKS.items() if source not in keys]
    assert max(org_facts) == rank(EventSource.INVITATION_RESPONSE)
    assert min(EVENT_RANKS.values()) == rank(EventSource.INVITATION)
    assert rank(EventSource.API_KEY_REVOCATION) > rank(EventSource.API_KEY)
    assert len(set(EVENT_RANKS.values())) == len(EventSource) == len(EVENT_RANKS)


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        ((None, None, None), Status.ACTIVE),
        (("deactivated", None, None), Status.INACTIVE),
        (("deactivated", "suspended", None), Status.SUSPENDED),
        (("activated", "lifted", "archived"), Status.ARCHIVED),
        (("activated", "lifted", "restored"), Status.ACTIVE),
    ],
)
def test_the_most_severe_fact_makes_the_status(
    facts: tuple[str | None, str | None, str | None], status: Status
) -> None:
    assert Flags.of(*facts).status == status
