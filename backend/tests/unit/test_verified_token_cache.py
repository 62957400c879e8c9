"""The cache of verified access tokens changes nothing a token is judged by: its times are checked
on every use, and anything the verification depended on (key, issuer, audience, lifetime) is part
of the cache key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from conftest import TEST_JWT_KEY, make_settings

from app.core.security import InvalidToken, encode_access_token, verify_access_token

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _token(settings: object) -> tuple[str, uuid.UUID, uuid.UUID]:
    user, session = uuid.uuid4(), uuid.uuid4()
    token, _ = encode_access_token(settings, user_id=user, session_id=session, organization_id=None, now=NOW)  # type: ignore[arg-type]
    return token, user, session


def test_a_cached_token_still_expires() -> None:
    settings = make_settings("postgresql+asyncpg://unused/db")
    token, user, session = _token(settings)
    claims = verify_access_token(settings, token, now=NOW)
    assert (claims.user_id, claims.session_id) == (user, session)
    assert verify_access_token(settings, token, now=NOW + timedelta(minutes=14)) == claims  # from the cache
    with pytest.raises(InvalidToken):
        verify_access_token(settings, token, now=NOW + timedelta(minutes=15))
    with pytest.raises(InvalidToken):
        verify_access_token(settings, token, now=NOW - timedelta(minutes=2))  # not yet valid


def test_a_cached_token_is_judged_again_under_other_settings() -> None:
    settings = make_settings("postgresql+asyncpg://unused/db")
    token, _, _ = _token(settings)
    verify_access_token(settings, token, now=NOW)
    other_key = make_settings("postgresql+asyncpg://unused/db", jwt_secret_key=TEST_JWT_KEY[::-1])
    with pytest.raises(InvalidToken):
        verify_access_token(other_key, token, now=NOW)
    shorter = make_settings("postgresql+asyncpg://unused/db", access_token_minutes=5)
    with pytest.raises(InvalidToken):
        verify_access_token(shorter, token, now=NOW)  # lives longer than tokens are issued there
    other_audience = make_settings("postgresql+asyncpg://unused/db", jwt_audience="someone-else")
    with pytest.raises(InvalidToken):
        verify_access_token(other_audience, token, now=NOW)


def test_a_token_that_failed_is_not_remembered_as_good() -> None:
    settings = make_settings("postgresql+asyncpg://unused/db")
    token, _, _ = _token(settings)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for _ in range(2):
        with pytest.raises(InvalidToken):
            verify_access_token(settings, tampered, now=NOW)
