"""Authentication: register, log in (which opens a session), and me.

What happens to a session after login — refresh, switch, log out, the list, revocations — is in
`services/sessions.py`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.database import Transactions
from app.core.security import passwords
from app.domain.errors import EmailNotVerified, InvalidCredentials
from app.domain.organizations import Membership, OrgState
from app.domain.sessions import Principal
from app.domain.users import UserState
from app.domain.vocabulary import Status
from app.repositories import organizations as orgs_repo
from app.repositories import sessions as sessions_repo
from app.repositories import users as users_repo
from app.services import invitations, mail_messages, organizations, sessions, throttling
from app.services.emails import account_key, check_email
from app.services.password_policy import check_new_password, normalize_password
from app.services.users import ClientInfo, create_account

# ------------------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class Registration:
    user: UserState
    organization: OrgState | None


@dataclass(frozen=True, slots=True)
class Me:
    user: UserState
    session_id: uuid.UUID
    active_organization: Membership | None
    memberships: list[Membership]


# ----------------------------------------------------------------------------------- register


async def register(
    db: AsyncSession,
    settings: Settings,
    *,
    email: str,
    password: str,
    display_name: str,
    organization_name: str | None,
    now: datetime,
    invitation_token: str | None = None,
) -> Registration:
    """A new active user; with `organization_name`, also their first organization (owner and
    member), in the same transaction. 422 for a bad email or password, 409 for a taken email.
    A verification message is appended to the outbox — unless `invitation_token` is given: then
    the email must be the invited one, the user counts as verified and joins the organization at
    once. With REQUIRE_VERIFIED_EMAIL a new, unverified user cannot found an organization here
    (403 `email_not_verified`)."""
    email = check_email(email)
    normalized = check_new_password(password, email=email)
    if organization_name is not None and settings.require_verified_email and invitation_token is None:
        raise EmailNotVerified(pointer="/body/organization_name")
    hasher = passwords(settings)
    async with hasher.admission():
        password_hash = await hasher.hash(normalized)
    user_id = await create_account(db, email=email, password_hash=password_hash, display_name=display_name, now=now)
    if invitation_token is not None:
        await invitations.accept_on_registration(db, token=invitation_token, user_id=user_id, now=now)
    else:
        await mail_messages.send_verification(db, settings, user_id=user_id, email=email, now=now)
    organization = None
    if organization_name is not None:
        organization_id = await organizations.create_organization(
            db, creator_id=user_id, name=organization_name, now=now
        )
        organization = OrgState(
            id=organization_id,
            created_at=now,
            created_by=user_id,
            name=organization_name,
            description=None,
            status=Status.ACTIVE,
            owner_id=user_id,
        )
    user = await users_repo.get_user_state(db, user_id)
    assert user is not None
    return Registration(user=user, organization=organization)


# -------------------------------------------------------------------------------------- login


async def login(
    transactions: Transactions,
    settings: Settings,
    *,
    email: str,
    password: str,
    organization_id: uuid.UUID | None,
    client: ClientInfo,
    now: datetime,
) -> sessions.TokenPair:
    """Check the password and open a session, holding no database connection while argon2 runs.

    1. A place among the logins allowed to hash (`Passwords.admission`, else 503 at once).
    2. One short transaction: throttling (429 whatever the password; the address and account locks
       make both budgets exact under parallel bursts), the attempt recorded, and the credential
       and status read in one query. Committed: the connection goes back to the pool.
    3. argon2 in the hash pool — against a dummy hash when the email is unknown — and only then
       the status, so every refusal costs the same and answers the same.
    4. On success, a second short transaction: the success recorded, a rehash stored if the
       parameters changed, the organization checked, the session opened.
    """
    key = throttling.throttle_key(settings, email)
    hasher = passwords(settings)
    normalized = normalize_password(password)
    async with hasher.admission():
        async with transactions() as db:
            await throttling.admit_attempt(db, settings, account_key=key, ip_address=client.ip_address, now=now)
            candidate = await users_repo.find_login(db, account_key(email))
        matches = await hasher.verify(candidate.password_hash if candidate else None, normalized)
        if not matches or candidate is None or candidate.status != Status.ACTIVE:
            raise InvalidCredentials(commits=True)
        rehashed = await hasher.hash(normalized) if hasher.needs_rehash(candidate.password_hash) else None
    user_id = candidate.user_id
    async with transactions() as db:
        await throttling.record_success(db, account_key=key, ip_address=client.ip_address, now=now)
        if settings.require_verified_email and not candidate.email_verified:
            # Only after a correct password (a failure still gets the one identical 401).
            raise EmailNotVerified(commits=True)
        if rehashed is not None:
            await users_repo.add_credential(
                db, user_id=user_id, email=account_key(email), password_hash=rehashed, at=now, actor_id=user_id
            )
        if organization_id is not None:
            refusal = await organizations.entry_refusal(db, user_id=user_id, organization_id=organization_id)
            if refusal is not None:
                refusal.commits = True  # the attempt's success stays recorded
                raise refusal
        session_id = uuid.uuid4()
        await sessions_repo.create_session(
            db,
            session_id=session_id,
            user_id=user_id,
            created_at=now,
            user_agent=client.user_agent,
            ip_address=client.ip_address,
        )
        return await sessions.issue(
            db, settings, session_id=session_id, user_id=user_id, organization_id=organization_id, now=now
        )


# ------------------------------------------------------------------------------------ refresh


# ----------------------------------------------------------------------------------------- me

MAX_ME_MEMBERSHIPS = 100


async def me(db: AsyncSession, *, principal: Principal) -> Me:
    """The caller, the active organization of the access token (None when there is none or the
    caller left it) and the caller's memberships with their role (the first 100; `GET /organizations`
    pages through all)."""
    user = principal.user or await users_repo.get_user_state(db, principal.user_id)
    assert user is not None
    memberships = await orgs_repo.memberships_of_user(db, principal.user_id, limit=MAX_ME_MEMBERSHIPS)
    active = None
    organization_id = principal.token_organization_id
    if organization_id is not None:
        active = next((m for m in memberships if m.organization.id == organization_id), None)
        if active is None and len(memberships) == MAX_ME_MEMBERSHIPS:
            active = await organizations.membership(db, user_id=principal.user_id, organization_id=organization_id)
    return Me(user=user, session_id=principal.session_id, active_organization=active, memberships=memberships)
