"""Roles, statuses, fact kinds, revocation reasons, actor types: the words stored and compared.

`StrEnum` members are `str`, so they compare equal to the values in the database and in JSON;
each fact table's CHECK constraint lists exactly the members of its enum (tested).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role in one organization: owner > admin (a member with a grant) > member."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class Status(StrEnum):
    """The lifecycle status of a user or an organization (most severe current fact wins)."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"
    ARCHIVED = "archived"


class MemberKind(StrEnum):
    """`organization_members.kind`."""

    ADDED = "added"
    REMOVED = "removed"


class GrantKind(StrEnum):
    """`organization_admins.kind` and `platform_admin_grants.kind`."""

    GRANTED = "granted"
    REVOKED = "revoked"


class ActiveKind(StrEnum):
    """`*_active_status.kind`."""

    ACTIVATED = "activated"
    DEACTIVATED = "deactivated"


class SuspensionKind(StrEnum):
    """`*_suspensions.kind`."""

    SUSPENDED = "suspended"
    LIFTED = "lifted"


class ArchiveKind(StrEnum):
    """`*_archives.kind`."""

    ARCHIVED = "archived"
    RESTORED = "restored"


class InvitationResponseKind(StrEnum):
    """`invitation_responses.kind`."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"


class InvitationStatus(StrEnum):
    """An invitation's composed status: its answer (`InvitationResponseKind`) — or, unanswered,
    pending until it expires."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"
    EXPIRED = "expired"


class MessageKind(StrEnum):
    """`outbox_messages.kind`: which email."""

    EMAIL_VERIFICATION = "email_verification"
    EMAIL_CHANGE = "email_change"
    EMAIL_CHANGE_NOTICE = "email_change_notice"
    PASSWORD_RESET = "password_reset"
    INVITATION = "invitation"


class DeliveryKind(StrEnum):
    """`outbox_deliveries.kind`."""

    SENT = "sent"
    FAILED = "failed"


class TokenPurpose(StrEnum):
    """`email_tokens.purpose`."""

    VERIFY_EMAIL = "verify_email"
    CHANGE_EMAIL = "change_email"
    PASSWORD_RESET = "password_reset"
    INVITATION = "invitation"


class EmailRequestKind(StrEnum):
    """`email_requests.kind`: the requests that are throttled per address."""

    VERIFY_EMAIL = "verify_email"
    CHANGE_EMAIL = "change_email"
    PASSWORD_RESET = "password_reset"


INVITABLE_ROLES = (Role.MEMBER, Role.ADMIN)
"""`invitations.role`: an invitation never makes an owner."""


LifecycleKind = ActiveKind | SuspensionKind | ArchiveKind


class RevocationReason(StrEnum):
    """`session_revocations.reason`: why a session ended."""

    LOGOUT = "logout"
    REVOKED_BY_USER = "revoked_by_user"
    REUSE_DETECTED = "reuse_detected"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    USER_ACTIVATED = "user_activated"
    USER_DEACTIVATED = "user_deactivated"
    USER_SUSPENDED = "user_suspended"
    USER_UNSUSPENDED = "user_unsuspended"
    USER_ARCHIVED = "user_archived"
    USER_RESTORED = "user_restored"


class ActorType(StrEnum):
    """Who acted on an event (SPEC §11)."""

    USER = "user"
    API_KEY = "api_key"
    SYSTEM = "system"
