"""Every refusal the service can give, each a class with its status, code and detail.

Raised anywhere below the routers; one set of handlers (`core/errors.py`) renders the shared
envelope. Grouped by the capability that raises them.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """A refusal. Raised, it rolls the request's transaction back — unless `commits`: a refusal
    that must keep what it wrote on the way (a failed login's attempt row, which throttling
    counts; a session revoked because a used refresh token came back). The transaction
    dependency (`core.database.transaction`) commits those first, then lets the error render."""

    status: int = 400
    code: str = "bad_request"
    detail: str = "The request cannot be processed."
    commits: bool = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        pointer: str | None = None,
        meta: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        commits: bool | None = None,
    ) -> None:
        self.detail = detail or self.detail
        self.commits = self.commits if commits is None else commits
        self.code = code or self.code
        self.status = status or self.status
        self.pointer = pointer
        self.meta = meta
        self.headers = headers
        super().__init__(self.detail)


class NotAuthenticated(AppError):
    status, code, detail = 401, "not_authenticated", "Missing, invalid or expired credentials."

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(AppError):
    status, code, detail = 403, "forbidden", "You are not allowed to do this."


class NotFound(AppError):
    status, code, detail = 404, "not_found", "Not found."


class Conflict(AppError):
    status, code, detail = 409, "conflict", "The request conflicts with the current state."


class TooManyRequests(AppError):
    status, code, detail = 429, "too_many_requests", "Too many attempts; retry later."

    def __init__(self, retry_after: int, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        kw.setdefault("meta", {"retry_after": max(1, retry_after)})
        super().__init__(**kw)


class ServerBusy(AppError):
    """Too much work queued (e.g. password hashing during a login flood): come back shortly."""

    status, code, detail = 503, "server_busy", "The server is busy; retry shortly."

    def __init__(self, retry_after: int = 1, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        kw.setdefault("meta", {"retry_after": max(1, retry_after)})
        super().__init__(**kw)


# ------------------------------------------------------------------------- users


class UserNotFound(NotFound):
    code, detail = "user_not_found", "No such user."


class EmailAlreadyRegistered(Conflict):
    code, detail = "email_already_registered", "An account with this email already exists."


class NotYourself(Forbidden):
    code, detail = "not_yourself", "Only the user themself may do this."


class PlatformAdminRequired(Forbidden):
    code, detail = "platform_admin_required", "Only platform administrators may do this."


class CannotChangeOwnStatus(Conflict):
    code, detail = "cannot_change_own_status", "Platform administrators cannot lock themselves out."


class InvalidCurrentPassword(Forbidden):
    code, detail = "invalid_current_password", "The current password is not correct."


class CredentialChanged(Conflict):
    code, detail = "credential_changed", "The password or login email changed while this request ran; try again."


class UserAlreadyActive(Conflict):
    code, detail = "user_already_active", "The user is not deactivated."


class UserAlreadyInactive(Conflict):
    code, detail = "user_already_inactive", "The user is already deactivated."


class UserAlreadySuspended(Conflict):
    code, detail = "user_already_suspended", "The user is already suspended."


class UserNotSuspended(Conflict):
    code, detail = "user_not_suspended", "The user is not suspended."


class UserAlreadyArchived(Conflict):
    code, detail = "user_already_archived", "The user is already archived."


class UserNotArchived(Conflict):
    code, detail = "user_not_archived", "The user is not archived."


class PasswordRequired(AppError):
    status, code, detail = 422, "password_required", "A password is needed to create a new user."


class ExistingUserNeedsPromote(Conflict):
    code, detail = (
        "email_already_registered",
        "A user with this email already exists; it was NOT made a platform administrator. Check that the "
        "account is really yours (anyone may register any email), then run the command again with --promote "
        "(its password is never changed).",
    )


class NotPlatformAdmin(Conflict):
    code, detail = "not_platform_admin", "This user is not a platform administrator (nothing changed)."


# ----------------------------------------------------------------- organizations


class OwnerNotFound(NotFound):
    code, detail = "owner_not_found", "The organization had no owner at that instant."


class UserNotActive(Conflict):
    code, detail = "user_not_active", "Only active users can be added, made admin or made owner."


class AlreadyMember(Conflict):
    code, detail = "already_member", "The user is already a member."


class NotAMember(Conflict):
    code, detail = "not_a_member", "The user is not a member of this organization."


class AlreadyAdmin(Conflict):
    code, detail = "already_admin", "The user is already an admin."


class NotAnAdmin(Conflict):
    code, detail = "not_an_admin", "The user is not an admin of this organization."


class OwnerCannotLeave(Conflict):
    code, detail = "owner_cannot_leave", "The owner cannot leave; transfer ownership first."


class OwnerCannotBeRemoved(Conflict):
    code, detail = "owner_cannot_be_removed", "The owner cannot be removed; transfer ownership first."


class OwnerCannotLoseAdmin(Conflict):
    code, detail = "owner_cannot_lose_admin", "The owner cannot lose admin; transfer ownership first."


class AlreadyOwner(Conflict):
    code, detail = "already_owner", "The user already owns this organization."


class AlreadyActive(Conflict):
    code, detail = "already_active", "The organization is already active."


class AlreadyInactive(Conflict):
    code, detail = "already_inactive", "The organization is already inactive."


class AlreadySuspended(Conflict):
    code, detail = "already_suspended", "The organization is already suspended."


class NotSuspended(Conflict):
    code, detail = "not_suspended", "The organization is not suspended."


class AlreadyArchived(Conflict):
    code, detail = "already_archived", "The organization is already archived."


class NotArchived(Conflict):
    code, detail = "not_archived", "The organization is not archived."


# --------------------------------------------------------------- password_policy


class PasswordRejected(AppError):
    status, code, detail = 422, "password_rejected", "The password is not acceptable."


# -------------------------------------------------------------------------- auth


class InvalidCredentials(NotAuthenticated):
    """One answer — same body, same headers — for an unknown email, a wrong password and an
    account that is deactivated, suspended or archived."""

    code, detail = "invalid_credentials", "Incorrect email or password."


class InvalidRefreshToken(NotAuthenticated):
    code, detail = "invalid_refresh_token", "The refresh token is invalid, expired, revoked or already used."


class SessionNotFound(NotFound):
    code, detail = "session_not_found", "No such session."


# ---------------------------------------------------------------------- policies


class OrganizationNotFound(NotFound):
    """Unknown, invisible to the caller, or not the caller's: one answer, never which."""

    code, detail = "organization_not_found", "Organization not found."


class OrganizationSuspended(Forbidden):
    code, detail = "organization_suspended", "This organization is suspended."


class OrganizationInactive(Conflict):
    code, detail = "organization_inactive", "This organization is inactive (read-only)."


class OrganizationArchived(Conflict):
    code, detail = "organization_archived", "This organization is archived; restore it first."


# ---------------------------------------------------------------------- api_keys


class InvalidApiKey(NotAuthenticated):
    code, detail = "invalid_api_key", "Unknown, revoked or expired API key."

    def __init__(self) -> None:
        super().__init__(headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'})


class AmbiguousCredentials(AppError):
    status, code, detail = 400, "ambiguous_credentials", "Send either Authorization or X-API-Key, not both."


class ApiKeyNotAllowed(Forbidden):
    code, detail = "api_key_not_allowed", "API keys act on their organization's routes only."


class PermissionEscalation(Forbidden):
    code, detail = "permission_escalation", "A key can only hold permissions you hold yourself."


class PermissionNotGrantable(AppError):
    status, code = 422, "permission_not_grantable"
    detail = "API keys cannot hold this permission."


class ApiKeyNotFound(NotFound):
    code, detail = "api_key_not_found", "No such API key in this organization."


class ExpiryInThePast(AppError):
    status, code, detail = 422, "validation_error", "expires_at must be in the future."


# ------------------------------------------------------------------------ emails


class InvalidEmail(AppError):
    status, code, detail = 422, "invalid_email", "This is not a valid email address."


# ------------------------------------------------------------------------- common


class InvalidCursor(AppError):
    status, code, detail = 422, "invalid_cursor", "The cursor is not one this list handed out."

    def __init__(self) -> None:
        super().__init__(pointer="/query/cursor")


# ------------------------------------------------------------------- invitations


class InvitationNotFound(NotFound):
    code, detail = "invitation_not_found", "No such invitation."


class InvitationPending(Conflict):
    code, detail = "invitation_pending", "A pending invitation for this email already exists."


class InvitationNotPending(Conflict):
    code, detail = "invitation_not_pending", "The invitation is no longer pending."


class InvitationEmailMismatch(Forbidden):
    code, detail = "invitation_email_mismatch", "The invitation was sent to another email address."


# ------------------------------------------------------------------ email_tokens


class InvalidToken(AppError):
    """Unknown, used, expired, or of another purpose: one answer, never which."""

    status, code, detail = 400, "invalid_token", "The token is invalid, expired or already used."

    def __init__(self, **kw: object) -> None:
        kw.setdefault("pointer", "/body/token")
        super().__init__(**kw)  # type: ignore[arg-type]


class EmailNotVerified(AppError):
    status, code, detail = 403, "email_not_verified", "Verify your email address first."


# ---------------------------------------------------------------------------------------- console


class CrossSiteRequest(Forbidden):
    code, detail = "csrf_rejected", "This request must come from the console page itself."
