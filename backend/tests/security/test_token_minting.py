"""Threat: turning a stolen access token into a long-lived refresh token (finding 4).

`POST /auth/switch-organization` with only an access token returned a fresh refresh token, good
for SESSION_ABSOLUTE_DAYS. Now (SPEC §6) it rotates a *presented* refresh token, and without one
returns an access token only.

References: RFC 9700 §2.2.2 and §4.14 (refresh token protection: rotation, reuse detection, a
refresh token only ever obtained through the grant), RFC 8725 §2 (token substitution); OWASP
ASVS 5.0 V7.2 / V9.1 (session and token lifecycle); OWASP API Top 10 2023 API2 (Broken
Authentication).
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from factories import DEFAULT_PASSWORD, assert_error, bearer, create_user
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.services.organizations import create_organization

pytestmark = pytest.mark.security

API = "/api/v1"


async def _pair(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await client.post(f"{API}/auth/token", json={"email": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def world(db: AsyncSession, clock: FrozenClock) -> tuple[str, uuid.UUID, uuid.UUID]:
    user_id = await create_user(db, now=clock.now(), email="mallory-victim@example.com")
    first = await create_organization(db, creator_id=user_id, name="First", now=clock.now())
    second = await create_organization(db, creator_id=user_id, name="Second", now=clock.now())
    return "mallory-victim@example.com", first, second


async def _switch(client: httpx.AsyncClient, access: str, org: uuid.UUID, refresh: str | None = None) -> httpx.Response:
    body: dict[str, str] = {"organization_id": str(org)}
    if refresh is not None:
        body["refresh_token"] = refresh
    return await client.post(f"{API}/auth/switch-organization", json=body, headers=bearer(access))


async def test_access_token_alone_never_mints_a_refresh_token(
    client: httpx.AsyncClient, world: tuple[str, uuid.UUID, uuid.UUID]
) -> None:
    """RFC 9700 §4.14 / API2:2023 — the attack run: a stolen access token bought a 30-day refresh token."""
    email, _, second = world
    stolen_access = (await _pair(client, email))["access_token"]
    response = await _switch(client, stolen_access, second)
    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    assert response.json()["organization_id"] == str(second)


async def test_switch_without_refresh_token_does_not_move_the_session(
    client: httpx.AsyncClient, world: tuple[str, uuid.UUID, uuid.UUID]
) -> None:
    """RFC 9700 §4.14 — an access-only switch leaves the refresh token (and its organization) as it was."""
    email, _, second = world
    pair = await _pair(client, email)
    switched = await _switch(client, pair["access_token"], second)
    assert switched.status_code == 200 and switched.json()["organization_id"] == str(second)
    refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200  # still the current token: no rotation happened
    assert refreshed.json()["organization_id"] is None


async def test_switch_with_the_refresh_token_rotates_it(
    client: httpx.AsyncClient, world: tuple[str, uuid.UUID, uuid.UUID]
) -> None:
    """RFC 9700 §4.14.2 — refresh token rotation: the presented token is used up."""
    email, first, _ = world
    pair = await _pair(client, email)
    switched = await _switch(client, pair["access_token"], first, pair["refresh_token"])
    assert switched.status_code == 200
    new = switched.json()
    assert new["refresh_token"] != pair["refresh_token"] and new["organization_id"] == str(first)
    refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert refreshed.status_code == 200 and refreshed.json()["organization_id"] == str(first)


async def test_replaying_a_used_refresh_token_at_switch_ends_the_session(
    client: httpx.AsyncClient, world: tuple[str, uuid.UUID, uuid.UUID]
) -> None:
    """RFC 9700 §4.14.2 — reuse detection applies at switch as at refresh."""
    email, first, second = world
    pair = await _pair(client, email)
    new = (await _switch(client, pair["access_token"], first, pair["refresh_token"])).json()
    replay = await _switch(client, new["access_token"], second, pair["refresh_token"])
    assert replay.status_code == 401
    assert replay.json()["errors"][0]["code"] == "invalid_refresh_token"
    assert_error(await client.get(f"{API}/auth/me", headers=bearer(new["access_token"])), 401, "not_authenticated")


async def test_refresh_token_of_another_session_is_refused(
    client: httpx.AsyncClient, world: tuple[str, uuid.UUID, uuid.UUID]
) -> None:
    """RFC 8725 §2.8 (substitution) — a refresh token only rotates its own session."""
    email, first, _ = world
    mine = await _pair(client, email)
    other = await _pair(client, email)
    response = await _switch(client, mine["access_token"], first, other["refresh_token"])
    assert_error(response, 401, "invalid_refresh_token")
    # nothing was used up: the other session's token still works
    assert (await client.post(f"{API}/auth/refresh", json={"refresh_token": other["refresh_token"]})).status_code == 200


async def test_refresh_token_of_another_user_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock, world: tuple[str, uuid.UUID, uuid.UUID]
) -> None:
    """API2:2023 — a refresh token stolen from someone else rotates nothing of ours."""
    email, first, _ = world
    await create_user(db, now=clock.now(), email="someone-else@example.com")
    victim = await _pair(client, "someone-else@example.com")
    mine = await _pair(client, email)
    response = await _switch(client, mine["access_token"], first, victim["refresh_token"])
    assert_error(response, 401, "invalid_refresh_token")


@pytest.mark.parametrize("bogus", ["x", "not-a-token" * 10, "a" * 512])
async def test_unknown_refresh_tokens_at_switch_are_refused(
    client: httpx.AsyncClient, world: tuple[str, uuid.UUID, uuid.UUID], bogus: str
) -> None:
    """RFC 9700 §4.14 — only a token we issued rotates."""
    email, first, _ = world
    mine = await _pair(client, email)
    assert_error(await _switch(client, mine["access_token"], first, bogus), 401, "invalid_refresh_token")


async def test_switch_needs_an_access_token_even_with_a_refresh_token(
    client: httpx.AsyncClient, world: tuple[str, uuid.UUID, uuid.UUID]
) -> None:
    """RFC 9700 §4.14 / API2:2023 — a refresh token alone is no Bearer token."""
    email, first, _ = world
    pair = await _pair(client, email)
    response = await client.post(
        f"{API}/auth/switch-organization",
        json={"organization_id": str(first), "refresh_token": pair["refresh_token"]},
        headers=bearer(pair["refresh_token"]),
    )
    assert_error(response, 401, "not_authenticated")
