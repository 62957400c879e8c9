"""The current password, shown again by a signed-in user to change their password or login email.

Checked like a login (`services/auth.login`): counted and throttled on the account, and without
holding a pooled connection while argon2 runs — otherwise one stolen access token firing parallel
requests would park a connection per request on the user's lock and starve every other caller.

1. `verify_current_password`: a short transaction (only the user themself; the credential; the
   request's own checks, e.g. the new password's policy — 422 before anything counts; the attempt
   admitted and recorded, 429 when locked out), committed; then argon2 in the hash pool (403
   `invalid_current_password` when wrong — the attempt stays counted).
   When right, the success is recorded in a second short transaction (as a login's is).
2. The change's own transaction calls `confirm_current_password` first: the user's lock and the
   credential re-read (a change that won meanwhile makes this one 409 `credential_changed`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.database import Transactions
from app.core.security import passwords
from app.domain.errors import CredentialChanged, InvalidCurrentPassword, UserNotFound
from app.domain.sessions import Principal
from app.domain.users import Credential, UserState
from app.domain.vocabulary import RevocationReason
from app.repositories import users as users_repo
from app.services import throttling
from app.services.password_policy import check_new_password, normalize_password
from app.services.sessions import end_sessions
from app.services.users import ClientInfo, require_self, user_state

T = TypeVar("T")


async def verify_current_password(
    transactions: Transactions,
    settings: Settings,
    *,
    principal: Principal,
    user_id: uuid.UUID,
    current_password: str,
    check: Callable[[Credential], T],
    client: ClientInfo,
    now: datetime,
) -> tuple[Credential, T]:
    """The credential `current_password` was verified against, and what `check` made of the request."""
    async with transactions() as db:
        await require_self(db, principal, user_id)
        credential = await users_repo.get_credential(db, user_id)
        if credential is None:
            raise UserNotFound()
        checked = check(credential)
        key = throttling.throttle_key(settings, credential.email)
        await throttling.admit_attempt(db, settings, account_key=key, ip_address=client.ip_address, now=now)
    hasher = passwords(settings)
    async with hasher.admission():
        if not await hasher.verify(credential.password_hash, normalize_password(current_password)):
            raise InvalidCurrentPassword(pointer="/body/current_password")
    async with transactions() as db:
        # Recorded whatever the change then meets (a taken email, a throttle): the password was right.
        await throttling.record_success(db, account_key=key, ip_address=client.ip_address, now=now)
    return credential, checked


async def confirm_current_password(db: AsyncSession, credential: Credential) -> None:
    """In the change's transaction: the verified credential is still the user's (under the user's lock)."""
    await users_repo.lock_user(db, credential.user_id)
    if await users_repo.get_credential(db, credential.user_id) != credential:
        raise CredentialChanged()


async def change_password(
    transactions: Transactions,
    settings: Settings,
    *,
    principal: Principal,
    user_id: uuid.UUID,
    current_password: str,
    new_password: str,
    client: ClientInfo,
    now: datetime,
) -> UserState:
    """Replace the password; needs the current one. Ends the user's other sessions."""
    credential, new = await verify_current_password(
        transactions,
        settings,
        principal=principal,
        user_id=user_id,
        current_password=current_password,
        check=lambda c: check_new_password(new_password, email=c.email, pointer="/body/new_password"),
        client=client,
        now=now,
    )
    hasher = passwords(settings)
    async with hasher.admission():
        new_hash = await hasher.hash(new)
    async with transactions() as db:
        await confirm_current_password(db, credential)
        await users_repo.add_credential(
            db, user_id=user_id, email=credential.email, password_hash=new_hash, at=now, actor_id=principal.user_id
        )
        await end_sessions(
            db,
            settings,
            user_id=user_id,
            reason=RevocationReason.PASSWORD_CHANGED,
            now=now,
            actor_id=principal.user_id,
            keep=principal.session_id,
        )
        return await user_state(db, user_id)
