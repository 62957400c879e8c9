"""Small builders for tests: users, sessions and tokens straight through the repositories.

They skip argon2 (a fixed, precomputed hash) and the HTTP login so tests that are not about
authentication stay fast; tests about authentication go through the API instead. And one
assertion, `assert_error`, for a refusal's status and envelope code.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache

import httpx
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.security import encode_access_token, new_refresh_token
from app.repositories import sessions as sessions_repo
from app.repositories import users as users_repo

DEFAULT_PASSWORD = "correct horse battery staple 42"


@lru_cache
def default_password_hash() -> str:
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1).hash(DEFAULT_PASSWORD)


async def create_user(
    db: AsyncSession,
    *,
    now: datetime,
    email: str | None = None,
    display_name: str = "Test User",
    platform_admin: bool = False,
    status: str | None = None,
) -> uuid.UUID:
    """A user with a credential (password DEFAULT_PASSWORD) and profile; optionally a status event."""
    user_id = uuid.uuid4()
    email = email or f"user-{user_id.hex[:12]}@example.com"
    await users_repo.create_user(db, user_id=user_id, created_at=now)
    await users_repo.add_credential(
        db, user_id=user_id, email=email, password_hash=default_password_hash(), at=now, actor_id=None
    )
    await users_repo.add_profile(
        db, user_id=user_id, display_name=display_name, bio=None, avatar_url=None, at=now, actor_id=None
    )
    if platform_admin:
        await users_repo.set_platform_admin(db, user_id=user_id, granted=True, at=now, actor_id=None)
    if status:
        await users_repo.add_status_event(db, user_id=user_id, kind=status, at=now, actor_id=None)
    return user_id


async def issue_token(
    db: AsyncSession, settings: Settings, *, user_id: uuid.UUID, now: datetime, organization_id: uuid.UUID | None = None
) -> str:
    """A live session for the user and an access token for it (no password check)."""
    session_id = uuid.uuid4()
    await sessions_repo.create_session(
        db, session_id=session_id, user_id=user_id, created_at=now, user_agent="tests", ip_address=None
    )
    _, token_hash = new_refresh_token()
    await sessions_repo.add_rotation(
        db, session_id=session_id, token_hash=token_hash, organization_id=organization_id, at=now, actor_id=user_id
    )
    token, _ = encode_access_token(
        settings, user_id=user_id, session_id=session_id, organization_id=organization_id, now=now
    )
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: httpx.Response, status: int, code: str, *, pointer: str | None = None) -> None:
    """A refusal: its status and the first error's code (and, given, its source pointer) in the
    shared envelope (`core/errors.py`), so a wrong code behind the right status fails."""
    assert response.status_code == status, response.text
    error = response.json()["errors"][0]
    assert error["code"] == code, response.text
    if pointer is not None:
        assert error.get("source", {}).get("pointer") == pointer, response.text
