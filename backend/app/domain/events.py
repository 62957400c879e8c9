"""The organization history's public event types, mapped from the stored facts in ONE table.

The feed (`GET /organizations/{id}/events`) reads facts from eleven tables; each fact's public
`type` comes from `EVENT_TYPES[(source, kind)]`, never from concatenating database values, so
renaming a stored kind cannot silently change the API (tests pin every name).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from app.domain.vocabulary import ActiveKind, ArchiveKind, GrantKind, InvitationResponseKind, MemberKind, SuspensionKind


class EventSource(StrEnum):
    """The fact table an event comes from (also the prefix of its public id, `source:seq`)."""

    PROFILE = "profile"
    MEMBER = "member"
    ADMIN = "admin"
    OWNER = "owner"
    STATUS = "status"
    SUSPENSION = "suspension"
    ARCHIVE = "archive"
    INVITATION = "invitation"
    INVITATION_RESPONSE = "invitation_response"
    API_KEY = "api_key"
    API_KEY_REVOCATION = "api_key_revocation"


class EventType(StrEnum):
    """Public event types (SPEC §7): part of the API contract."""

    ORGANIZATION_CREATED = "organization.created"
    ORGANIZATION_PROFILE_UPDATED = "organization.profile_updated"
    MEMBER_ADDED = "member.added"
    MEMBER_REMOVED = "member.removed"
    ADMIN_GRANTED = "admin.granted"
    ADMIN_REVOKED = "admin.revoked"
    OWNER_CHANGED = "owner.changed"
    ORGANIZATION_ACTIVATED = "organization.activated"
    ORGANIZATION_DEACTIVATED = "organization.deactivated"
    ORGANIZATION_SUSPENDED = "organization.suspended"
    ORGANIZATION_UNSUSPENDED = "organization.unsuspended"
    ORGANIZATION_ARCHIVED = "organization.archived"
    ORGANIZATION_RESTORED = "organization.restored"
    INVITATION_CREATED = "invitation.created"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_DECLINED = "invitation.declined"
    INVITATION_REVOKED = "invitation.revoked"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"


# Kinds of the tables that store none: the first profile row creates the organization.
PROFILE_CREATED, PROFILE_UPDATED, OWNER_SET, INVITATION_SENT = "created", "updated", "set", "sent"
KEY_CREATED, KEY_REVOKED = "created", "revoked"  # an API key's base row, and its revocation

EVENT_TYPES: Mapping[tuple[EventSource, str], EventType] = MappingProxyType(
    {
        (EventSource.PROFILE, PROFILE_CREATED): EventType.ORGANIZATION_CREATED,
        (EventSource.PROFILE, PROFILE_UPDATED): EventType.ORGANIZATION_PROFILE_UPDATED,
        (EventSource.MEMBER, MemberKind.ADDED): EventType.MEMBER_ADDED,
        (EventSource.MEMBER, MemberKind.REMOVED): EventType.MEMBER_REMOVED,
        (EventSource.ADMIN, GrantKind.GRANTED): EventType.ADMIN_GRANTED,
        (EventSource.ADMIN, GrantKind.REVOKED): EventType.ADMIN_REVOKED,
        (EventSource.OWNER, OWNER_SET): EventType.OWNER_CHANGED,
        (EventSource.STATUS, ActiveKind.ACTIVATED): EventType.ORGANIZATION_ACTIVATED,
        (EventSource.STATUS, ActiveKind.DEACTIVATED): EventType.ORGANIZATION_DEACTIVATED,
        (EventSource.SUSPENSION, SuspensionKind.SUSPENDED): EventType.ORGANIZATION_SUSPENDED,
        (EventSource.SUSPENSION, SuspensionKind.LIFTED): EventType.ORGANIZATION_UNSUSPENDED,
        (EventSource.ARCHIVE, ArchiveKind.ARCHIVED): EventType.ORGANIZATION_ARCHIVED,
        (EventSource.ARCHIVE, ArchiveKind.RESTORED): EventType.ORGANIZATION_RESTORED,
        (EventSource.INVITATION, INVITATION_SENT): EventType.INVITATION_CREATED,
        (EventSource.INVITATION_RESPONSE, InvitationResponseKind.ACCEPTED): EventType.INVITATION_ACCEPTED,
        (EventSource.INVITATION_RESPONSE, InvitationResponseKind.DECLINED): EventType.INVITATION_DECLINED,
        (EventSource.INVITATION_RESPONSE, InvitationResponseKind.REVOKED): EventType.INVITATION_REVOKED,
        (EventSource.API_KEY, KEY_CREATED): EventType.API_KEY_CREATED,
        (EventSource.API_KEY_REVOCATION, KEY_REVOKED): EventType.API_KEY_REVOKED,
    }
)
"""(source, stored kind) → public type."""

EVENT_RANKS: Mapping[EventSource, int] = MappingProxyType(
    {
        EventSource.INVITATION: 0,
        EventSource.PROFILE: 1,
        EventSource.MEMBER: 2,
        EventSource.ADMIN: 3,
        EventSource.OWNER: 4,
        EventSource.STATUS: 5,
        EventSource.SUSPENSION: 6,
        EventSource.ARCHIVE: 7,
        EventSource.API_KEY: 8,
        EventSource.INVITATION_RESPONSE: 9,
        EventSource.API_KEY_REVOCATION: 10,
    }
)
"""Order within one instant (higher first): a creation reads owner → admin → member → created;
an invitation's creation reads as the oldest fact of its instant, an answer as the newest of the
organization's roster and status facts; a key's revocation after its creation (one request never
makes both, nor a key fact and a roster fact)."""


def event_type(source: str, kind: str) -> EventType:
    """The public type of one stored fact; KeyError for a fact the table does not know."""
    return EVENT_TYPES[(EventSource(source), kind)]
