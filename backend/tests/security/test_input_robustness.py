"""Threat: crashing the service (500, dropped keep-alive) with input at the edges (finding 7).

References: OWASP ASVS 5.0 V1.5 / V2.2 (input validation, safe deserialization), V16.5 (errors
handled, no 500 for client input); OWASP API Top 10 2023 API4 (Unrestricted Resource Consumption),
API8 (Security Misconfiguration); RFC 8725 §3.10 (validate all claims).
"""

from __future__ import annotations

import base64
import json
import uuid

import httpx
import jwt
import pytest
from conftest import TEST_JWT_KEY
from factories import assert_error, bearer, create_user, issue_token
from org_factories import make_org
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.config import Settings

pytestmark = pytest.mark.security

EDGE_INSTANTS = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999+00:00",
    "0001-01-01T00:00:00",
]


@pytest.fixture
async def owner(db: AsyncSession, settings: Settings, clock: FrozenClock) -> tuple[uuid.UUID, dict[str, str]]:
    user_id = await create_user(db, now=clock.now())
    org_id = await make_org(db, user_id, clock.now())
    return org_id, bearer(await issue_token(db, settings, user_id=user_id, now=clock.now()))


def _cursor(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("instant", EDGE_INSTANTS)
@pytest.mark.parametrize("what", ["members", "admins", "owner"])
async def test_as_of_at_the_calendar_edges_is_never_a_500(
    client: httpx.AsyncClient, owner: tuple[uuid.UUID, dict[str, str]], what: str, instant: str
) -> None:
    """ASVS 5.0 V16.5.3 / API8:2023 — `as_of` whose UTC falls outside years 1–9999 was a 500."""
    org_id, headers = owner
    response = await client.get(f"/api/v1/organizations/{org_id}/{what}", params={"as_of": instant}, headers=headers)
    if instant.endswith(("+14:00", "-14:00")):
        assert_error(response, 422, "validation_error", pointer="/query/as_of")
    elif what == "owner" and instant.startswith("0001"):
        assert_error(response, 404, "owner_not_found")  # long before the organization existed
    else:
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("instant", EDGE_INSTANTS[:2])
async def test_event_cursor_with_edge_instants_is_invalid_cursor(
    client: httpx.AsyncClient, owner: tuple[uuid.UUID, dict[str, str]], instant: str
) -> None:
    """ASVS 5.0 V16.5.3 — a forged events cursor carrying an out-of-range instant: 422, not 500."""
    org_id, headers = owner
    cursor = _cursor({"k": "events", "t": instant, "r": 1, "i": 1})
    response = await client.get(f"/api/v1/organizations/{org_id}/events", params={"cursor": cursor}, headers=headers)
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "invalid_cursor"


@pytest.mark.parametrize("instant", EDGE_INSTANTS[:2])
async def test_sessions_cursor_with_edge_instants_is_invalid_cursor(
    client: httpx.AsyncClient, owner: tuple[uuid.UUID, dict[str, str]], instant: str
) -> None:
    """ASVS 5.0 V16.5.3 — the same instants inside the sessions cursor."""
    _, headers = owner
    cursor = _cursor({"k": "sessions", "c": instant, "i": str(uuid.uuid4())})
    response = await client.get("/api/v1/auth/sessions", params={"cursor": cursor}, headers=headers)
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "invalid_cursor"


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [5_000, 20_000])
async def test_json_nested_thousands_deep_on_login_is_a_4xx(client: httpx.AsyncClient, depth: int) -> None:
    """API4:2023 / ASVS 5.0 V1.5 — `[[[[…]]]]` 5,000 deep made json.loads raise RecursionError: 500."""
    body = b'{"email": "a@example.com", "password": ' + _nested(depth) + b"}"
    response = await client.post("/api/v1/auth/token", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "path", ["/api/v1/auth/register", "/api/v1/auth/refresh", "/api/v1/auth/logout", "/api/v1/organizations"]
)
async def test_json_nested_thousands_deep_on_any_body_is_a_4xx(
    client: httpx.AsyncClient, owner: tuple[uuid.UUID, dict[str, str]], path: str
) -> None:
    """API4:2023 — every JSON body, not only login's."""
    _, headers = owner
    response = await client.post(path, content=_nested(5_000), headers={"content-type": "application/json", **headers})
    assert 400 <= response.status_code < 500


def _forge(settings: Settings, token: str, **changes: object) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    return jwt.encode(claims, TEST_JWT_KEY, algorithm=settings.jwt_algorithm)


@pytest.mark.parametrize("exp", [10**20, 2**63, 2**64 + 1, 253402300800])
async def test_signed_token_with_absurd_exp_is_401_not_500(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, clock: FrozenClock, exp: int
) -> None:
    """RFC 8725 §3.10 / ASVS 5.0 V9.2.1 — `exp` of 10²⁰ overflowed datetime: 500 with the key."""
    user_id = await create_user(db, now=clock.now())
    token = _forge(settings, await issue_token(db, settings, user_id=user_id, now=clock.now()), exp=exp)
    response = await client.get("/api/v1/auth/me", headers=bearer(token))
    assert_error(response, 401, "not_authenticated")


@pytest.mark.parametrize("extra_seconds", [1, 3600, 86400 * 365])
async def test_validly_signed_token_living_longer_than_configured_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, clock: FrozenClock, extra_seconds: int
) -> None:
    """RFC 8725 §3.10 / ASVS 5.0 V9.2.1 — exp − iat beyond ACCESS_TOKEN_MINUTES is not ours to honour."""
    user_id = await create_user(db, now=clock.now())
    token = await issue_token(db, settings, user_id=user_id, now=clock.now())
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = _forge(settings, token, exp=claims["iat"] + settings.access_token_minutes * 60 + extra_seconds)
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
    assert_error(await client.get("/api/v1/auth/me", headers=bearer(forged)), 401, "not_authenticated")


async def test_token_with_nbf_before_iat_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, clock: FrozenClock
) -> None:
    """RFC 8725 §3.10 — a token usable before it was issued is not one we issue."""
    user_id = await create_user(db, now=clock.now())
    token = await issue_token(db, settings, user_id=user_id, now=clock.now())
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = _forge(settings, token, nbf=claims["iat"] - 3600)
    assert_error(await client.get("/api/v1/auth/me", headers=bearer(forged)), 401, "not_authenticated")


@pytest.mark.parametrize("value", [1e300, "1", None, True, [1], 1.5])
async def test_non_integer_time_claims_are_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, clock: FrozenClock, value: object
) -> None:
    """RFC 8725 §3.10 / RFC 7519 §4.1.4 — exp must be a NumericDate we issued, whatever its type."""
    user_id = await create_user(db, now=clock.now())
    token = await issue_token(db, settings, user_id=user_id, now=clock.now())
    forged = _forge(settings, token, exp=value)
    assert_error(await client.get("/api/v1/auth/me", headers=bearer(forged)), 401, "not_authenticated")
