"""What each email says. Every function issues the token (when there is one), builds the link
from its `*_URL` template and appends the message to the outbox — in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.domain.vocabulary import MessageKind, Role, TokenPurpose
from app.services import email_tokens
from app.services.outbox import enqueue


def _link(template: str, token: str) -> str:
    return template.replace("{token}", quote(token, safe=""))


async def send_verification(
    db: AsyncSession, settings: Settings, *, user_id: uuid.UUID, email: str, now: datetime
) -> None:
    token = await email_tokens.issue(
        db, settings, purpose=TokenPurpose.VERIFY_EMAIL, email=email, user_id=user_id, now=now
    )
    link = _link(settings.email_verify_url, token)
    await enqueue(
        db,
        settings,
        kind=MessageKind.EMAIL_VERIFICATION,
        recipient=email,
        subject="Verify your email address",
        body=(
            f"Please confirm that {email} is your email address by opening this link:\n\n{link}\n\n"
            f"The link works once and expires in {settings.email_verify_hours} hours. "
            "If you did not create an account, ignore this message.\n"
        ),
        link=link,
        now=now,
        actor_id=user_id,
    )


async def send_email_change(
    db: AsyncSession, settings: Settings, *, user_id: uuid.UUID, old_email: str, new_email: str, now: datetime
) -> None:
    """The confirmation to the new address, and a notice (no link) to the old one."""
    token = await email_tokens.issue(
        db, settings, purpose=TokenPurpose.CHANGE_EMAIL, email=new_email, user_id=user_id, now=now
    )
    link = _link(settings.email_verify_url, token)
    await enqueue(
        db,
        settings,
        kind=MessageKind.EMAIL_CHANGE,
        recipient=new_email,
        subject="Confirm your new email address",
        body=(
            f"Someone asked to make {new_email} the login email of the account {old_email}. "
            f"To confirm, open this link:\n\n{link}\n\n"
            f"The link works once and expires in {settings.email_verify_hours} hours. "
            "Until then the login email does not change. If it was not you, ignore this message.\n"
        ),
        link=link,
        now=now,
        actor_id=user_id,
    )
    await enqueue(
        db,
        settings,
        kind=MessageKind.EMAIL_CHANGE_NOTICE,
        recipient=old_email,
        subject="Your login email is about to change",
        body=(
            f"A change of your account's login email to {new_email} was requested. It takes effect only "
            "when the new address confirms it. If this was not you, change your password now.\n"
        ),
        link=None,
        now=now,
        actor_id=user_id,
    )


async def send_password_reset(
    db: AsyncSession, settings: Settings, *, user_id: uuid.UUID, email: str, now: datetime
) -> None:
    token = await email_tokens.issue(
        db, settings, purpose=TokenPurpose.PASSWORD_RESET, email=email, user_id=user_id, now=now
    )
    link = _link(settings.password_reset_url, token)
    await enqueue(
        db,
        settings,
        kind=MessageKind.PASSWORD_RESET,
        recipient=email,
        subject="Reset your password",
        body=(
            f"To choose a new password, open this link:\n\n{link}\n\n"
            f"The link works once and expires in {settings.password_reset_minutes} minutes. "
            "Every session of the account ends when the new password is set. "
            "If you did not ask for this, ignore this message: your password stays as it is.\n"
        ),
        link=link,
        now=now,
        actor_id=None,
    )


async def send_invitation(
    db: AsyncSession,
    settings: Settings,
    *,
    invitation_id: uuid.UUID,
    email: str,
    organization_name: str,
    role: Role,
    inviter_name: str | None,
    expires_at: datetime,
    now: datetime,
    actor_id: uuid.UUID | None,
) -> None:
    token = await email_tokens.issue(
        db,
        settings,
        purpose=TokenPurpose.INVITATION,
        email=email,
        invitation_id=invitation_id,
        expires_at=expires_at,
        now=now,
        actor_id=actor_id,
    )
    link = _link(settings.invitation_url, token)
    who = inviter_name or "Someone"
    as_role = "an admin" if role == Role.ADMIN else "a member"
    await enqueue(
        db,
        settings,
        kind=MessageKind.INVITATION,
        recipient=email,
        subject=f"You are invited to join {organization_name}",
        body=(
            f"{who} invited {email} to join {organization_name} as {as_role}.\n\n"
            f"To accept (with an existing account or a new one), open this link:\n\n{link}\n\n"
            f"The invitation expires on {expires_at:%Y-%m-%d %H:%M} UTC.\n"
        ),
        link=link,
        now=now,
        actor_id=actor_id,
    )
