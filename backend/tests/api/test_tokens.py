"""Access tokens under attack, refresh-token rotation and reuse detection, expiry."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import jwt
import pytest
from conftest import TEST_JWT_KEY
from factories import DEFAULT_PASSWORD, assert_error, bearer, create_user, issue_token
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.config import Settings
from app.models import SessionRevocation

API = "/api/v1"
ME = f"{API}/auth/me"


async def tokens(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await client.post(f"{API}/auth/token", json={"email": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(f"{API}/auth/refresh", json={"refresh_token": token})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: str = "") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{signature}"


@pytest.fixture
async def valid(db: AsyncSession, settings: Settings, clock: FrozenClock) -> tuple[str, dict[str, Any]]:
    """A valid access token of a live session and its claims."""
    user_id = await create_user(db, now=clock.now())
    token = await issue_token(db, settings, user_id=user_id, now=clock.now())
    return token, jwt.decode(token, options={"verify_signature": False})


def sign(claims: dict[str, Any], key: str = TEST_JWT_KEY, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


async def refused(client: httpx.AsyncClient, token: str) -> bool:
    response = await client.get(ME, headers=bearer(token))
    return response.status_code == 401 and response.json()["errors"][0]["code"] == "not_authenticated"


# -------------------------------------------------------------------------- hostile JWTs


async def test_the_valid_token_works(client: httpx.AsyncClient, valid: tuple[str, dict[str, Any]]) -> None:
    assert (await client.get(ME, headers=bearer(valid[0]))).status_code == 200
    assert (await client.get(ME, headers={"Authorization": f"bearer {valid[0]}"})).status_code == 200


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_alg_none_is_refused(client: httpx.AsyncClient, valid: tuple[str, dict[str, Any]], alg: str) -> None:
    _, claims = valid
    assert await refused(client, unsigned({"alg": alg, "typ": "JWT"}, claims))
    # …also with the original signature pasted back on
    signature = valid[0].rsplit(".", 1)[1]
    assert await refused(client, unsigned({"alg": alg, "typ": "JWT"}, claims, signature))


async def test_tampered_payload_is_refused(client: httpx.AsyncClient, valid: tuple[str, dict[str, Any]]) -> None:
    token, claims = valid
    header, _, signature = token.split(".")
    forged = {**claims, "sub": str(uuid.uuid4())}
    assert await refused(client, f"{header}.{b64(json.dumps(forged).encode())}.{signature}")
    assert await refused(client, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))


async def test_wrong_key_and_wrong_algorithm_are_refused(
    client: httpx.AsyncClient, valid: tuple[str, dict[str, Any]]
) -> None:
    _, claims = valid
    assert await refused(client, sign(claims, key="another-key-" + "y" * 48))
    assert await refused(client, sign(claims, algorithm="HS512"))  # right key, algorithm not pinned


@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "sid", "org", "iat", "nbf", "exp", "jti", "typ"])
async def test_every_claim_is_required(
    client: httpx.AsyncClient, valid: tuple[str, dict[str, Any]], claim: str
) -> None:
    _, claims = valid
    assert await refused(client, sign({k: v for k, v in claims.items() if k != claim}))


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("typ", "refresh"),
        ("typ", "Access"),
        ("iss", "someone-else"),
        ("aud", "another-api"),
        ("sub", "not-a-uuid"),
        pytest.param("sid", str(uuid.uuid4()), id="sid-unknown"),  # a session that does not exist
        ("exp", "tomorrow"),
    ],
)
async def test_wrong_claims_are_refused(
    client: httpx.AsyncClient, valid: tuple[str, dict[str, Any]], claim: str, value: str
) -> None:
    _, claims = valid
    assert await refused(client, sign({**claims, claim: value}))


async def test_another_users_session_id_is_refused(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    clock: FrozenClock,
    valid: tuple[str, dict[str, Any]],
) -> None:
    _, claims = valid
    other = await create_user(db, now=clock.now())
    other_token = await issue_token(db, settings, user_id=other, now=clock.now())
    other_sid = jwt.decode(other_token, options={"verify_signature": False})["sid"]
    assert await refused(client, sign({**claims, "sid": other_sid}))


async def test_expired_and_not_yet_valid_tokens_are_refused(
    client: httpx.AsyncClient, valid: tuple[str, dict[str, Any]], clock: FrozenClock
) -> None:
    token, claims = valid
    assert await refused(client, sign({**claims, "nbf": claims["nbf"] + 3600}))
    clock.advance(minutes=14, seconds=59)
    assert (await client.get(ME, headers=bearer(token))).status_code == 200
    clock.advance(seconds=1)
    assert await refused(client, token)


async def test_a_refresh_token_is_no_bearer_token(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock
) -> None:
    await create_user(db, now=clock.now(), email="rt@example.com")
    pair = await tokens(client, "rt@example.com")
    assert await refused(client, pair["refresh_token"])
    # and an access token is no refresh token
    assert_error(await refresh(client, pair["access_token"]), 401, "invalid_refresh_token")


async def test_tokens_are_read_only_from_the_authorization_header(
    client: httpx.AsyncClient, valid: tuple[str, dict[str, Any]]
) -> None:
    token, _ = valid
    for response in (
        await client.get(ME, params={"access_token": token}),
        await client.get(ME, params={"token": token}),
        await client.get(ME, headers={"Cookie": f"access_token={token}; Authorization=Bearer%20{token}"}),
        await client.get(ME, headers={"Authorization": f"Basic {token}"}),
        await client.get(ME, headers={"Authorization": token}),
    ):
        assert_error(response, 401, "not_authenticated")


# --------------------------------------------------------------------- rotation and reuse


async def test_refresh_rotates_and_reuse_revokes_the_whole_session(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock
) -> None:
    await create_user(db, now=clock.now(), email="rot@example.com")
    first = await tokens(client, "rot@example.com")
    bystander = await tokens(client, "rot@example.com")  # another session of the same user

    second = await refresh(client, first["refresh_token"])
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    third = (await refresh(client, second["refresh_token"])).json()
    assert (await client.get(ME, headers=bearer(third["access_token"]))).status_code == 200

    # The attacker replays the first refresh token: refused, and the newest tokens die too.
    replay = await refresh(client, first["refresh_token"])
    assert replay.status_code == 401
    assert replay.json()["errors"][0]["code"] == "invalid_refresh_token"
    assert_error(await refresh(client, third["refresh_token"]), 401, "invalid_refresh_token")
    assert await refused(client, third["access_token"])
    assert await refused(client, first["access_token"])
    # The revocation committed although the request answered 401 — with its reason.
    reasons = (await db.execute(select(SessionRevocation.reason))).scalars().all()
    assert reasons.count("reuse_detected") == 1
    # A replay after the revocation changes nothing more.
    assert_error(await refresh(client, second["refresh_token"]), 401, "invalid_refresh_token")
    assert (await db.execute(select(SessionRevocation.reason))).scalars().all().count("reuse_detected") == 1
    # The user's other session survives.
    assert (await client.get(ME, headers=bearer(bystander["access_token"]))).status_code == 200
    assert (await refresh(client, bystander["refresh_token"])).status_code == 200


async def test_unknown_refresh_tokens_are_refused(client: httpx.AsyncClient) -> None:
    assert_error(await refresh(client, ""), 422, "validation_error", pointer="/body/refresh_token")
    for token in ("x", "a" * 43):
        assert_error(await refresh(client, token), 401, "invalid_refresh_token")


async def test_refresh_keeps_the_session_and_extends_its_idle_time(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock, settings: Settings
) -> None:
    await create_user(db, now=clock.now(), email="idle@example.com")
    pair = await tokens(client, "idle@example.com")
    session = (await client.get(ME, headers=bearer(pair["access_token"]))).json()["session_id"]
    for _ in range(2):
        clock.advance(minutes=settings.session_idle_minutes - 1)
        response = await refresh(client, pair["refresh_token"])
        assert response.status_code == 200
        pair = response.json()
    assert (await client.get(ME, headers=bearer(pair["access_token"]))).json()["session_id"] == session
    clock.advance(minutes=settings.session_idle_minutes)
    assert_error(await refresh(client, pair["refresh_token"]), 401, "invalid_refresh_token")


async def test_the_absolute_lifetime_ends_even_a_busy_session(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock, settings: Settings
) -> None:
    await create_user(db, now=clock.now(), email="busy@example.com")
    pair = await tokens(client, "busy@example.com")
    step_days = 6
    lived = 0
    while lived + step_days < settings.session_absolute_days:
        clock.advance(days=step_days)
        lived += step_days
        response = await refresh(client, pair["refresh_token"])
        assert response.status_code == 200, lived
        pair = response.json()
    clock.advance(days=settings.session_absolute_days - lived)
    assert_error(await refresh(client, pair["refresh_token"]), 401, "invalid_refresh_token")
    assert await refused(client, pair["access_token"])


async def test_refresh_is_refused_for_a_suspended_user(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock
) -> None:
    from app.repositories import users as users_repo

    user_id = await create_user(db, now=clock.now(), email="sus@example.com")
    pair = await tokens(client, "sus@example.com")
    await users_repo.add_status_event(db, user_id=user_id, kind="suspended", reason="x", at=clock.now(), actor_id=None)
    assert_error(await refresh(client, pair["refresh_token"]), 401, "invalid_refresh_token")
    assert await refused(client, pair["access_token"])
