"""Invitations (SPEC §10): invite an email address into an organization; the person accepts with
the emailed token (which proves they own the address) as a new or an existing user.

Creating, revoking, accepting and declining all run under the organization's lock, and an
invitation has at most one response (unique in the database too), so two concurrent accepts of
one invitation end with exactly one membership and one 409 `invitation_not_pending`.
Status rules (§5): creating and revoking follow the organization's status like any membership
change; accepting into a suspended organization is 403 `organization_suspended`, into an archived
one 404, into an inactive one 409 `organization_inactive`.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import TooManyRequests
from app.domain.errors import (
    AlreadyMember,
    EmailNotVerified,
    InvalidToken,
    InvitationEmailMismatch,
    InvitationNotFound,
    InvitationNotPending,
    InvitationPending,
    OrganizationInactive,
    OrganizationNotFound,
    OrganizationSuspended,
)
from app.domain.invitations import InvitationState
from app.domain.sessions import Principal
from app.domain.users import UserState
from app.domain.vocabulary import (
    GrantKind,
    InvitationResponseKind,
    InvitationStatus,
    MemberKind,
    Role,
    Status,
    TokenPurpose,
)
from app.repositories import invitations as invitations_repo
from app.repositories import organizations as orgs
from app.repositories import users as users_repo
from app.services import email_tokens, mail_messages, policies
from app.services.email_flows import mark_verified
from app.services.email_tokens import REQUEST_WINDOW
from app.services.emails import check_email, normalize_email
from app.services.org_access import admit_locked
from app.services.pages import Page, page_of
from app.services.policies import Action, OrgContext


@dataclass(frozen=True, slots=True)
class Acceptance:
    organization_id: uuid.UUID
    role: Role


# ---------------------------------------------------------------------------- organization side


async def create(db: AsyncSession, settings: Settings, ctx: OrgContext, *, email: str, role: Role) -> InvitationState:
    """Invite `email` as `role` (`invitations:create`, and `invitations:create_admin` for an
    admin) and mail the link. One address gets at most EMAIL_REQUESTS_PER_HOUR invitations into
    one organization in any hour (429 beyond)."""
    action = Action.INVITE_ADMIN if role == Role.ADMIN else Action.INVITE_MEMBER
    policies.require(ctx, Action.INVITE_MEMBER)
    ctx, _ = await admit_locked(db, ctx, action)
    email = check_email(email)
    existing = await users_repo.find_credential_by_email(db, email)
    if existing is not None:
        members = await orgs.get_standing(db, ctx.organization_id, [existing.user_id])
        if members is not None and members.facts(existing.user_id).is_member:
            raise AlreadyMember(pointer="/body/email")
    if await invitations_repo.has_pending(db, ctx.organization_id, email, now=ctx.now):
        raise InvitationPending(pointer="/body/email")
    # Revoking and inviting again must not become a way to flood one mailbox.
    nth = await invitations_repo.nth_latest_to(
        db, ctx.organization_id, email, since=ctx.now - REQUEST_WINDOW, n=settings.email_requests_per_hour
    )
    if nth is not None:
        raise TooManyRequests(max(1, math.ceil((nth + REQUEST_WINDOW - ctx.now).total_seconds())))
    invitation_id = uuid.uuid4()
    expires_at = ctx.now + timedelta(days=settings.invitation_days)
    seq = await invitations_repo.add_invitation(
        db,
        invitation_id=invitation_id,
        organization_id=ctx.organization_id,
        email=email,
        role=role,
        expires_at=expires_at,
        at=ctx.now,
        actor_id=ctx.user_id,
        actor_api_key_id=ctx.api_key_id,
    )
    inviter = await users_repo.get_user_state(db, ctx.user_id) if ctx.user_id is not None else None
    organization = await orgs.get_org_state(db, ctx.organization_id)
    assert organization is not None
    await mail_messages.send_invitation(
        db,
        settings,
        invitation_id=invitation_id,
        email=email,
        organization_name=organization.name,
        role=role,
        inviter_name=inviter.display_name if inviter else None,
        expires_at=expires_at,
        now=ctx.now,
        actor_id=ctx.user_id,
    )
    return InvitationState(
        seq=seq,
        id=invitation_id,
        organization_id=ctx.organization_id,
        email=email,
        role=role,
        status=InvitationStatus.PENDING,
        invited_by=ctx.user_id,
        created_at=ctx.now,
        expires_at=expires_at,
        responded_at=None,
    )


async def list_for_organization(
    db: AsyncSession, ctx: OrgContext, *, status: InvitationStatus | None, before: int | None, limit: int
) -> Page[InvitationState]:
    policies.require(ctx, Action.READ_INVITATIONS)
    rows = await invitations_repo.organization_page(
        db, ctx.organization_id, now=ctx.now, status=status, before=before, limit=limit + 1
    )
    return page_of(rows, limit)


async def revoke(db: AsyncSession, ctx: OrgContext, *, invitation_id: uuid.UUID) -> None:
    ctx, _ = await admit_locked(db, ctx, Action.REVOKE_INVITATION)
    invitation = await invitations_repo.get(db, invitation_id, now=ctx.now)
    if invitation is None or invitation.organization_id != ctx.organization_id:
        raise InvitationNotFound()
    if invitation.status != InvitationStatus.PENDING:
        raise InvitationNotPending()
    await invitations_repo.add_response(
        db,
        invitation_id=invitation_id,
        organization_id=ctx.organization_id,
        kind=InvitationResponseKind.REVOKED,
        at=ctx.now,
        actor_id=ctx.user_id,
        actor_api_key_id=ctx.api_key_id,
    )


# ------------------------------------------------------------------------------ invitee side


async def _caller(db: AsyncSession, principal: Principal) -> UserState:
    user = await users_repo.get_user_state(db, principal.user_id)
    assert user is not None
    return user


async def mine(
    db: AsyncSession, *, principal: Principal, now: datetime, before: int | None, limit: int
) -> Page[InvitationState]:
    """The caller's pending invitations — only once the caller's email is verified."""
    user = await _caller(db, principal)
    if not user.email_verified or user.email is None:
        return Page(items=[], more=False)
    rows = await invitations_repo.pending_for_email(db, user.email, now=now, before=before, limit=limit + 1)
    return page_of(rows, limit)


async def _respond(
    db: AsyncSession, invitation_id: uuid.UUID, *, kind: InvitationResponseKind, user: UserState | None, now: datetime
) -> Acceptance:
    """Under the organization's lock: the invitation must still be pending; accepting adds the
    membership (and the admin grant) and counts the email as verified."""
    invitation = await invitations_repo.get(db, invitation_id, now=now)
    if invitation is None:
        raise InvitationNotFound()
    organization_id = invitation.organization_id
    await orgs.lock_organization(db, organization_id)
    invitation = await invitations_repo.get(db, invitation_id, now=now)
    assert invitation is not None
    if invitation.status != InvitationStatus.PENDING:
        raise InvitationNotPending()
    if kind == InvitationResponseKind.ACCEPTED:
        assert user is not None
        standing = await orgs.get_standing(db, organization_id, [user.id])
        if standing is None or standing.state.status == Status.ARCHIVED:
            raise OrganizationNotFound()
        if standing.state.status == Status.SUSPENDED:
            raise OrganizationSuspended()
        if standing.state.status == Status.INACTIVE:
            raise OrganizationInactive()
        if standing.facts(user.id).is_member:
            raise AlreadyMember()
        await users_repo.lock_user(db, user.id)
        await orgs.add_member_event(
            db, organization_id=organization_id, user_id=user.id, kind=MemberKind.ADDED, at=now, actor_id=user.id
        )
        if invitation.role == Role.ADMIN:
            await orgs.add_admin_event(
                db, organization_id=organization_id, user_id=user.id, kind=GrantKind.GRANTED, at=now, actor_id=user.id
            )
        await mark_verified(db, user_id=user.id, email=invitation.email, now=now, actor_id=user.id)
    await invitations_repo.add_response(
        db,
        invitation_id=invitation_id,
        organization_id=organization_id,
        kind=kind,
        at=now,
        actor_id=user.id if user else None,
    )
    return Acceptance(organization_id, invitation.role)


async def _answer_by_token(
    db: AsyncSession, token: str, *, kind: InvitationResponseKind, user: UserState | None, now: datetime
) -> Acceptance:
    """Answer the invitation of an `invitation` token (400 `invalid_token` otherwise); with `user`,
    their login email must be the invited one (403 `invitation_email_mismatch`). The token's use
    is recorded with the answer (an answered invitation refuses it anyway: 409)."""
    record = await email_tokens.find(db, token, purposes=(TokenPurpose.INVITATION,))
    if record.invitation_id is None:
        raise InvalidToken()
    if user is not None and normalize_email(user.email or "") != record.email:
        raise InvitationEmailMismatch()
    answer = await _respond(db, record.invitation_id, kind=kind, user=user, now=now)
    await email_tokens.mark_used(db, record, now=now, actor_id=user.id if user else None)
    return answer


async def accept_by_token(db: AsyncSession, *, principal: Principal, token: str, now: datetime) -> Acceptance:
    user = await _caller(db, principal)
    return await _answer_by_token(db, token, kind=InvitationResponseKind.ACCEPTED, user=user, now=now)


async def decline_by_token(db: AsyncSession, *, token: str, now: datetime) -> None:
    """The token alone proves the address: no account is needed to decline."""
    await _answer_by_token(db, token, kind=InvitationResponseKind.DECLINED, user=None, now=now)


async def _own(db: AsyncSession, user: UserState, invitation_id: uuid.UUID, now: datetime) -> uuid.UUID:
    """An invitation addressed to the caller's *verified* email; anyone else's is a 404."""
    invitation = await invitations_repo.get(db, invitation_id, now=now)
    if invitation is None or user.email is None or invitation.email != user.email:
        raise InvitationNotFound()
    if not user.email_verified:
        raise EmailNotVerified()
    return invitation_id


async def accept_by_id(
    db: AsyncSession, *, principal: Principal, invitation_id: uuid.UUID, now: datetime
) -> Acceptance:
    user = await _caller(db, principal)
    await _own(db, user, invitation_id, now)
    return await _respond(db, invitation_id, kind=InvitationResponseKind.ACCEPTED, user=user, now=now)


async def decline_by_id(db: AsyncSession, *, principal: Principal, invitation_id: uuid.UUID, now: datetime) -> None:
    user = await _caller(db, principal)
    await _own(db, user, invitation_id, now)
    await _respond(db, invitation_id, kind=InvitationResponseKind.DECLINED, user=user, now=now)


async def accept_on_registration(db: AsyncSession, *, token: str, user_id: uuid.UUID, now: datetime) -> Acceptance:
    """Registration with an `invitation_token`: the new user (whose email must be the invited one)
    joins at once and counts as verified."""
    user = await users_repo.get_user_state(db, user_id)
    assert user is not None
    return await _answer_by_token(db, token, kind=InvitationResponseKind.ACCEPTED, user=user, now=now)
