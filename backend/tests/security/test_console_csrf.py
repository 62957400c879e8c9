"""Threat: a page on another site makes the victim's browser call the console's cookie endpoints
(log the victim out, rotate or use their refresh cookie, log them into the attacker's account).

Every `/console/api/session…` endpoint needs the console's own header, an `Origin` naming this
host, and (when sent) `Sec-Fetch-Site: same-origin`; otherwise 403 `csrf_rejected`, before the
cookie is read or anything is written."""

from __future__ import annotations

import pytest

from app.console.router import REFRESH_COOKIE, SESSION_PATH
from tests.factories import DEFAULT_PASSWORD, assert_error, bearer, create_user

pytestmark = pytest.mark.security

GOOD = {"X-Tenancy-Console": "1", "Origin": "http://testserver"}
FORGED = [
    pytest.param({"Origin": "http://testserver"}, id="no-console-header"),
    pytest.param({"X-Tenancy-Console": "1"}, id="no-origin"),
    pytest.param({"X-Tenancy-Console": "1", "Origin": "https://evil.example"}, id="foreign-origin"),
    pytest.param({"X-Tenancy-Console": "1", "Origin": "null"}, id="null-origin"),
    pytest.param({"X-Tenancy-Console": "1", "Origin": "http://testserver.evil.example"}, id="suffix-origin"),
    pytest.param({"X-Tenancy-Console": "1", "Origin": "http://testserver/x"}, id="origin-with-path"),
    pytest.param({**GOOD, "Sec-Fetch-Site": "cross-site"}, id="cross-site-fetch"),
    pytest.param({**GOOD, "Sec-Fetch-Site": "same-site"}, id="same-site-fetch"),
    pytest.param({"X-Tenancy-Console": "0", "Origin": "http://testserver"}, id="header-wrong-value"),
]
ENDPOINTS = ["", "/refresh", "/switch", "/logout"]


@pytest.mark.parametrize("headers", FORGED)
@pytest.mark.parametrize("path", ENDPOINTS)
async def test_forged_requests_are_refused_before_the_cookie_is_touched(client, db, clock, headers, path):
    await create_user(db, now=clock.now(), email="ada@example.com")
    login = await client.post(
        SESSION_PATH, json={"email": "ada@example.com", "password": DEFAULT_PASSWORD}, headers=GOOD
    )
    token = login.json()["access_token"]
    cookie = client.cookies[REFRESH_COOKIE]
    body = {"email": "ada@example.com", "password": DEFAULT_PASSWORD} if path == "" else None
    response = await client.post(f"{SESSION_PATH}{path}", json=body, headers=headers)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "csrf_rejected"
    assert "set-cookie" not in response.headers
    # Nothing happened to the session: the cookie still refreshes, the token still works.
    assert client.cookies[REFRESH_COOKIE] == cookie
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
    assert (await client.post(f"{SESSION_PATH}/refresh", headers=GOOD)).status_code == 200


async def test_the_api_never_reads_the_console_cookie(client, db, clock):
    """The cookie is not a credential anywhere else: `/api/v1` wants the Bearer header."""
    await create_user(db, now=clock.now(), email="ada@example.com")
    await client.post(SESSION_PATH, json={"email": "ada@example.com", "password": DEFAULT_PASSWORD}, headers=GOOD)
    cookie = client.cookies[REFRESH_COOKIE]
    response = await client.get("/api/v1/auth/me", headers={"Cookie": f"{REFRESH_COOKIE}={cookie}"})
    assert_error(response, 401, "not_authenticated")
    refresh = await client.post("/api/v1/auth/refresh", json={}, headers={"Cookie": f"{REFRESH_COOKIE}={cookie}"})
    assert_error(refresh, 422, "validation_error", pointer="/body/refresh_token")  # the body's token is required
