"""Email flows: verify an address, reset a password, change the login email (SPEC §9)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse

from app.api.client import ClientDep
from app.api.deps import ClockDep, CurrentPrincipal, ReleasedPrincipal, SessionDep, SettingsDep, TransactionsDep
from app.schemas.email import (
    Accepted,
    EmailChange,
    EmailVerified,
    EmailVerify,
    PasswordResetConfirm,
    PasswordResetRequest,
)
from app.services import email_flows

router = APIRouter(tags=["email"])

_BAD_TOKEN: dict[int | str, dict[str, Any]] = {
    400: {"description": "`invalid_token` — unknown, used, expired or of another purpose"}
}
_THROTTLED: dict[int | str, dict[str, Any]] = {429: {"description": "`too_many_requests` with `Retry-After`"}}

# One fixed answer for every password-reset request: the same body and headers whether or not the
# email belongs to an account (or to one that cannot log in).
_RESET_ACCEPTED = {"detail": "If this email belongs to an active account, a password reset link has been sent to it."}


@router.post(
    "/auth/verify-email/request", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted, responses=_THROTTLED
)
async def request_verification(
    principal: CurrentPrincipal, db: SessionDep, settings: SettingsDep, clock: ClockDep, client: ClientDep
) -> Accepted:
    """Send a new verification link to your login email (at most EMAIL_REQUESTS_PER_HOUR)."""
    await email_flows.request_verification(db, settings, principal=principal, client=client, now=clock.now())
    return Accepted(detail="A verification link has been sent to your email address.")


@router.post(
    "/auth/verify-email",
    response_model=EmailVerified,
    responses={**_BAD_TOKEN, 409: {"description": "`email_already_registered` (an email change)"}},
)
async def verify_email(body: EmailVerify, db: SessionDep, clock: ClockDep) -> EmailVerified:
    """Confirm an address with the emailed token (no login needed). A token from an email change
    makes the new address the login email."""
    user = await email_flows.verify_email(db, token=body.token, now=clock.now())
    assert user.email is not None
    return EmailVerified(email=user.email, email_verified=user.email_verified)


@router.post(
    "/auth/password-reset", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted, responses=_THROTTLED
)
async def request_password_reset(
    body: PasswordResetRequest, db: SessionDep, settings: SettingsDep, clock: ClockDep, client: ClientDep
) -> Any:
    """Mail a reset link. The answer is the same whether or not the email has an account."""
    await email_flows.request_password_reset(db, settings, email=body.email, client=client, now=clock.now())
    return JSONResponse(_RESET_ACCEPTED, status_code=status.HTTP_202_ACCEPTED)


@router.post("/auth/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT, responses=_BAD_TOKEN)
async def confirm_password_reset(
    body: PasswordResetConfirm, db: SessionDep, settings: SettingsDep, clock: ClockDep
) -> Response:
    """Set a new password with the emailed token. Every session of the account ends."""
    await email_flows.confirm_password_reset(
        db, settings, token=body.token, new_password=body.new_password, now=clock.now()
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/users/{user_id}/email",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses={
        403: {"description": "`invalid_current_password`"},
        409: {"description": "`email_already_registered`; `credential_changed` (a concurrent change won)"},
        **_THROTTLED,
    },
)
async def request_email_change(
    user_id: uuid.UUID,
    body: EmailChange,
    principal: ReleasedPrincipal,
    transactions: TransactionsDep,
    settings: SettingsDep,
    clock: ClockDep,
    client: ClientDep,
) -> Any:
    """Change your login email: a link goes to the new address (the change happens when it is
    opened) and a notice to the current one."""
    await email_flows.request_email_change(
        transactions,
        settings,
        principal=principal,
        user_id=user_id,
        new_email=body.new_email,
        current_password=body.current_password,
        client=client,
        now=clock.now(),
    )
    return Accepted(detail="A confirmation link has been sent to the new address.")
