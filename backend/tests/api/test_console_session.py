"""The console's session endpoints: the refresh token only ever in an HttpOnly cookie scoped to
`/console/api/session`, rotated like `/auth/refresh`; pages served with a strict CSP."""

from __future__ import annotations

import httpx
import pytest
from org_factories import make_org

from app.console.router import REFRESH_COOKIE, SESSION_PATH
from tests.factories import DEFAULT_PASSWORD, assert_error, bearer, create_user

CONSOLE = {"X-Tenancy-Console": "1", "Origin": "http://testserver"}


async def _log_in(client: httpx.AsyncClient, email: str, **extra: object) -> httpx.Response:
    return await client.post(
        SESSION_PATH, json={"email": email, "password": DEFAULT_PASSWORD, **extra}, headers=CONSOLE
    )


def _set_cookie(response: httpx.Response) -> str:
    [header] = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    return header


async def test_log_in_sets_the_refresh_cookie_and_returns_only_the_access_token(client, db, clock):
    await create_user(db, now=clock.now(), email="ada@example.com")
    response = await _log_in(client, "ada@example.com")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "organization_id"}
    cookie = _set_cookie(response)
    assert cookie.startswith(f"{REFRESH_COOKIE}=")
    attributes = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"].strip().lower() == "samesite=strict"
    assert attributes["path"].strip() == f"Path={SESSION_PATH}"
    assert "secure" not in attributes  # plain http in tests; https or production sets it
    assert response.headers["cache-control"] == "no-store"
    me = await client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "ada@example.com"


async def test_the_cookie_is_secure_over_https(app, db, clock):
    await create_user(db, now=clock.now(), email="ada@example.com")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        response = await client.post(
            SESSION_PATH,
            json={"email": "ada@example.com", "password": DEFAULT_PASSWORD},
            headers={**CONSOLE, "Origin": "https://testserver"},
        )
    assert response.status_code == 200
    assert "secure" in _set_cookie(response).lower().split("; ")


async def test_refresh_rotates_the_cookie_and_a_replayed_cookie_ends_the_session(client, db, clock):
    await create_user(db, now=clock.now(), email="ada@example.com")
    first = (await _log_in(client, "ada@example.com")).cookies[REFRESH_COOKIE]
    refreshed = await client.post(f"{SESSION_PATH}/refresh", headers=CONSOLE)
    assert refreshed.status_code == 200
    assert "refresh_token" not in refreshed.json()
    second = refreshed.cookies[REFRESH_COOKIE]
    assert second != first
    client.cookies.set(REFRESH_COOKIE, first, path=SESSION_PATH)
    replay = await client.post(f"{SESSION_PATH}/refresh", headers=CONSOLE)
    assert replay.status_code == 401
    assert replay.json()["errors"][0]["code"] == "invalid_refresh_token"
    client.cookies.set(REFRESH_COOKIE, second, path=SESSION_PATH)
    after = await client.post(f"{SESSION_PATH}/refresh", headers=CONSOLE)
    assert_error(after, 401, "invalid_refresh_token")  # reuse detection ended the whole session


async def test_refresh_without_a_cookie_is_401_in_the_envelope(client):
    response = await client.post(f"{SESSION_PATH}/refresh", headers=CONSOLE)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_refresh_token"


async def test_switch_rotates_the_cookie_into_the_organization(client, db, clock):
    ada = await create_user(db, now=clock.now(), email="ada@example.com")
    org = await make_org(db, ada, clock.now())
    token = (await _log_in(client, "ada@example.com")).json()["access_token"]
    before = client.cookies[REFRESH_COOKIE]
    switched = await client.post(
        f"{SESSION_PATH}/switch", json={"organization_id": str(org)}, headers={**CONSOLE, **bearer(token)}
    )
    assert switched.status_code == 200
    assert switched.json()["organization_id"] == str(org)
    assert switched.cookies[REFRESH_COOKIE] != before
    refreshed = await client.post(f"{SESSION_PATH}/refresh", headers=CONSOLE)
    assert refreshed.json()["organization_id"] == str(org)


async def test_switch_into_a_stranger_organization_is_404(client, db, clock):
    await create_user(db, now=clock.now(), email="ada@example.com")
    other = await create_user(db, now=clock.now())
    org = await make_org(db, other, clock.now())
    token = (await _log_in(client, "ada@example.com")).json()["access_token"]
    switched = await client.post(
        f"{SESSION_PATH}/switch", json={"organization_id": str(org)}, headers={**CONSOLE, **bearer(token)}
    )
    assert switched.status_code == 404
    assert switched.json()["errors"][0]["code"] == "organization_not_found"


async def test_logout_ends_the_session_and_clears_the_cookie(client, db, clock):
    await create_user(db, now=clock.now(), email="ada@example.com")
    token = (await _log_in(client, "ada@example.com")).json()["access_token"]
    response = await client.post(f"{SESSION_PATH}/logout", headers=CONSOLE)
    assert response.status_code == 204
    assert "Max-Age=0" in _set_cookie(response) or "expires=" in _set_cookie(response).lower()
    assert REFRESH_COOKIE not in client.cookies
    me = await client.get("/api/v1/auth/me", headers=bearer(token))
    assert_error(me, 401, "not_authenticated")
    again = await client.post(f"{SESSION_PATH}/logout", headers=CONSOLE)
    assert again.status_code == 204


async def test_wrong_password_is_the_one_401(client, db, clock):
    await create_user(db, now=clock.now(), email="ada@example.com")
    response = await client.post(
        SESSION_PATH, json={"email": "ada@example.com", "password": "not the password at all"}, headers=CONSOLE
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_credentials"
    assert "set-cookie" not in response.headers


async def test_the_page_has_a_strict_content_security_policy(client):
    response = await client.get("/console")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "http" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    # No inline script or style in the page itself: everything comes from /console/static.
    html = response.text
    assert "<script>" not in html and "<style" not in html and "style=" not in html
    assert 'src="/console/static/app.js"' in html


@pytest.mark.parametrize(("name", "media"), [("app.js", "text/javascript"), ("console.css", "text/css")])
async def test_assets_are_served_with_etags(client, name, media):
    response = await client.get(f"/console/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    again = await client.get(f"/console/static/{name}", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("name", ["../router.py", "nope.js", "%2e%2e/router.py", "index.html", "views/../../csrf.py"])
async def test_only_shipped_assets_are_served(client, name):
    response = await client.get(f"/console/static/{name}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


async def test_switch_refuses_a_refresh_token_in_the_body(client, db, clock):
    ada = await create_user(db, now=clock.now(), email="ada@example.com")
    org = await make_org(db, ada, clock.now())
    token = (await _log_in(client, "ada@example.com")).json()["access_token"]
    switched = await client.post(
        f"{SESSION_PATH}/switch",
        json={"organization_id": str(org), "refresh_token": "x"},
        headers={**CONSOLE, **bearer(token)},
    )
    assert_error(switched, 422, "validation_error", pointer="/body/refresh_token")


async def test_switch_with_a_used_cookie_ends_the_session(client, db, clock):
    ada = await create_user(db, now=clock.now(), email="ada@example.com")
    org = await make_org(db, ada, clock.now())
    token = (await _log_in(client, "ada@example.com")).json()["access_token"]
    used = client.cookies[REFRESH_COOKIE]
    assert (await client.post(f"{SESSION_PATH}/refresh", headers=CONSOLE)).status_code == 200
    client.cookies.set(REFRESH_COOKIE, used, path=SESSION_PATH)
    switched = await client.post(
        f"{SESSION_PATH}/switch", json={"organization_id": str(org)}, headers={**CONSOLE, **bearer(token)}
    )
    assert switched.status_code == 401
    assert switched.json()["errors"][0]["code"] == "invalid_refresh_token"
    assert_error(await client.get("/api/v1/auth/me", headers=bearer(token)), 401, "not_authenticated")


@pytest.mark.parametrize(
    ("path", "page"),
    [("/verify-email", "verify-email"), ("/reset-password", "reset-password"), ("/invitations/accept", "invitation")],
)
async def test_email_links_open_the_console_with_the_token_in_the_fragment(client, path, page):
    response = await client.get(f"{path}?token=abc_DEF-123")
    assert response.status_code == 303
    assert response.headers["location"] == f"/console#/{page}?token=abc_DEF-123"
    # Anything but a url-safe token is dropped, never reflected into the Location.
    odd = await client.get(path, params={"token": "x\r\nSet-Cookie: a=b/../evil"})
    assert odd.headers["location"] == f"/console#/{page}"
