"""Email verification, password reset and email change (SPEC §9).

- Verification: register (and `request_verification`) mail a `verify_email` token for the login
  email; `verify_email` turns it into a verification fact — only while that email is still the
  login email.
- Email change: `request_email_change` (the current password is needed) mails a `change_email`
  token to the new address and a notice to the old one; confirming it at `verify_email` appends a
  new credential fact with the new email (same password hash) and its verification — 409 when the
  address was taken meanwhile.
- Password reset: `request_password_reset` answers the same whatever the email (the endpoint
  returns one fixed 202) and mails only active accounts; `confirm_password_reset` sets the new
  password (policy applies), ends every session (`password_reset`) and verifies the email.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.database import Transactions
from app.core.security import passwords
from app.domain.errors import EmailAlreadyRegistered, InvalidToken, UserNotFound
from app.domain.sessions import Principal
from app.domain.users import UserState
from app.domain.vocabulary import EmailRequestKind, RevocationReason, Status, TokenPurpose
from app.repositories import email_tokens as tokens_repo
from app.repositories import users as users_repo
from app.services import credentials, email_tokens, mail_messages
from app.services.emails import account_key, check_email
from app.services.password_policy import check_new_password
from app.services.sessions import end_sessions
from app.services.users import ClientInfo


async def mark_verified(
    db: AsyncSession, *, user_id: uuid.UUID, email: str, now: datetime, actor_id: uuid.UUID | None
) -> None:
    """Record that the user owns `email` (once: no second fact for an address already verified)."""
    if not await tokens_repo.is_verified(db, user_id, email):
        await tokens_repo.add_verification(db, user_id=user_id, email=email, at=now, actor_id=actor_id)


# ------------------------------------------------------------------------------ verification


async def request_verification(
    db: AsyncSession, settings: Settings, *, principal: Principal, client: ClientInfo, now: datetime
) -> None:
    """A new verification message for the caller's login email (at most EMAIL_REQUESTS_PER_HOUR)."""
    credential = await users_repo.get_credential(db, principal.user_id)
    if credential is None:
        raise UserNotFound()
    await email_tokens.throttle_request(
        db,
        settings,
        kind=EmailRequestKind.VERIFY_EMAIL,
        key=str(principal.user_id),
        ip_address=client.ip_address,
        now=now,
    )
    await mail_messages.send_verification(db, settings, user_id=principal.user_id, email=credential.email, now=now)


async def verify_email(db: AsyncSession, *, token: str, now: datetime) -> UserState:
    """Redeem a `verify_email` or `change_email` token (no authentication: the token is the proof)."""
    record = await email_tokens.redeem(
        db, token, purposes=(TokenPurpose.VERIFY_EMAIL, TokenPurpose.CHANGE_EMAIL), now=now
    )
    user_id = record.user_id
    if user_id is None or not await users_repo.lock_user(db, user_id):
        raise InvalidToken()
    user = await users_repo.get_user_state(db, user_id)
    credential = await users_repo.get_credential(db, user_id)
    if user is None or credential is None or not user.is_active:
        raise InvalidToken()
    if record.purpose == TokenPurpose.CHANGE_EMAIL and credential.email != record.email:
        await users_repo.lock_email(db, record.email)
        holder = await users_repo.find_credential_by_email(db, record.email)
        if holder is not None:
            raise EmailAlreadyRegistered(pointer="/body/token")
        await users_repo.add_credential(
            db, user_id=user_id, email=record.email, password_hash=credential.password_hash, at=now, actor_id=user_id
        )
    elif credential.email != record.email:
        # A verification of an address that is no longer (or not yet) the login email.
        raise InvalidToken()
    await mark_verified(db, user_id=user_id, email=record.email, now=now, actor_id=user_id)
    state = await users_repo.get_user_state(db, user_id)
    assert state is not None
    return state


# ---------------------------------------------------------------------------- password reset


async def request_password_reset(
    db: AsyncSession, settings: Settings, *, email: str, client: ClientInfo, now: datetime
) -> None:
    """Mail a reset link when the email is an active account's; otherwise do nothing. Throttled
    per email (known or not) and per client address; the caller answers identically either way."""
    key = account_key(email)
    await email_tokens.throttle_request(
        db,
        settings,
        kind=EmailRequestKind.PASSWORD_RESET,
        key=key,
        ip_address=client.ip_address,
        now=now,
        per_address=True,
    )
    candidate = await users_repo.find_login(db, key)
    if candidate is not None and candidate.status == Status.ACTIVE:
        await mail_messages.send_password_reset(db, settings, user_id=candidate.user_id, email=key, now=now)


async def confirm_password_reset(
    db: AsyncSession, settings: Settings, *, token: str, new_password: str, now: datetime
) -> None:
    """Set the new password (a new credential fact), end every session, count the email verified."""
    record = await email_tokens.redeem(db, token, purposes=(TokenPurpose.PASSWORD_RESET,), now=now)
    user_id = record.user_id
    if user_id is None or not await users_repo.lock_user(db, user_id):
        raise InvalidToken()
    user = await users_repo.get_user_state(db, user_id)
    credential = await users_repo.get_credential(db, user_id)
    if user is None or credential is None or not user.is_active or credential.email != record.email:
        raise InvalidToken()
    new = check_new_password(new_password, email=credential.email, pointer="/body/new_password")
    hasher = passwords(settings)
    async with hasher.admission():
        new_hash = await hasher.hash(new)
    await users_repo.add_credential(
        db, user_id=user_id, email=credential.email, password_hash=new_hash, at=now, actor_id=user_id
    )
    await end_sessions(db, settings, user_id=user_id, reason=RevocationReason.PASSWORD_RESET, now=now, actor_id=user_id)
    await mark_verified(db, user_id=user_id, email=credential.email, now=now, actor_id=user_id)


# ------------------------------------------------------------------------------ email change


async def request_email_change(
    transactions: Transactions,
    settings: Settings,
    *,
    principal: Principal,
    user_id: uuid.UUID,
    new_email: str,
    current_password: str,
    client: ClientInfo,
    now: datetime,
) -> None:
    """Mail a confirmation to the new address and a notice to the old one; nothing changes yet.

    A wrong current password is 403 `invalid_current_password` (and counts as a failed login);
    it is verified holding no pooled connection (`services/credentials.py`).
    """
    credential, new = await credentials.verify_current_password(
        transactions,
        settings,
        principal=principal,
        user_id=user_id,
        current_password=current_password,
        check=lambda _: check_email(new_email, pointer="/body/new_email"),
        client=client,
        now=now,
    )
    async with transactions() as db:
        await credentials.confirm_current_password(db, credential)
        if new == credential.email or await users_repo.find_credential_by_email(db, new) is not None:
            raise EmailAlreadyRegistered(pointer="/body/new_email")
        await email_tokens.throttle_request(
            db, settings, kind=EmailRequestKind.CHANGE_EMAIL, key=str(user_id), ip_address=client.ip_address, now=now
        )
        await mail_messages.send_email_change(
            db, settings, user_id=user_id, old_email=credential.email, new_email=new, now=now
        )
