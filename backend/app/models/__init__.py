"""Every table, so `Base.metadata` is complete wherever models are imported."""

from app.models.api_key import ApiKey, ApiKeyRevocation, ApiKeyUse
from app.models.auth import LoginAttempt, MemberEmailLookup, Session, SessionRevocation, SessionRotation
from app.models.base import AppendOnly, Base
from app.models.invitation import Invitation, InvitationResponse
from app.models.mail import (
    EmailRequest,
    EmailToken,
    EmailTokenUse,
    OutboxDelivery,
    OutboxMessage,
    UserEmailVerification,
)
from app.models.organization import (
    Organization,
    OrganizationActiveStatus,
    OrganizationAdmin,
    OrganizationArchive,
    OrganizationMember,
    OrganizationOwner,
    OrganizationProfile,
    OrganizationSuspension,
)
from app.models.user import (
    PlatformAdminGrant,
    User,
    UserActiveStatus,
    UserArchive,
    UserLoginPassword,
    UserProfile,
    UserSuspension,
)

__all__ = [
    "ApiKey",
    "ApiKeyRevocation",
    "ApiKeyUse",
    "AppendOnly",
    "Base",
    "EmailRequest",
    "EmailToken",
    "EmailTokenUse",
    "Invitation",
    "InvitationResponse",
    "LoginAttempt",
    "MemberEmailLookup",
    "Organization",
    "OrganizationActiveStatus",
    "OrganizationAdmin",
    "OrganizationArchive",
    "OrganizationMember",
    "OrganizationOwner",
    "OrganizationProfile",
    "OrganizationSuspension",
    "OutboxDelivery",
    "OutboxMessage",
    "PlatformAdminGrant",
    "Session",
    "SessionRevocation",
    "SessionRotation",
    "User",
    "UserActiveStatus",
    "UserArchive",
    "UserEmailVerification",
    "UserLoginPassword",
    "UserProfile",
    "UserSuspension",
]
