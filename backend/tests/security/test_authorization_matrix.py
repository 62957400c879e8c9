"""Threat: reaching a route one may not use — every route × every kind of caller, as data.

`MATRIX` below is the expected status of every route of the API for every caller kind. A route
the app serves that has no row fails `test_every_route_has_a_row` (add the row when you add the
route; routes outside the API go to `EXCLUDED` with a reason), and a row for a route that no
longer exists fails too. Each cell is a test of its own, id `METHOD path-caller`, run in a
savepoint of one shared world (rolled back), so a failure names the exact cell.

Callers: `anonymous` (no credentials), `non_member` (a user with no role in the organization),
`member`, `admin`, `owner` (of the target organization), `platform_admin` (an operator who is
not a member), `api_key` (a key of the target organization holding every permission a key may
hold). User-scoped targets (`{user_id}` of /users) are a plain member of the organization.

References: OWASP API Top 10 2023 API1 (Broken Object Level Authorization), API3 (Broken Object
Property Level Authorization), API5 (Broken Function Level Authorization); OWASP ASVS 5.0 V8.2
(general authorization design: every route has an explicit rule), V8.3 (operation level).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from conftest import make_settings
from factories import DEFAULT_PASSWORD, bearer, create_user, issue_token
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from org_factories import cell_client, join, make_org, shared_app, shared_world
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.core.clock import FrozenClock
from app.domain.permissions import sorted_permissions
from app.repositories import api_keys as keys_repo
from app.services.api_keys import KEY_GRANTABLE, new_key

pytestmark = pytest.mark.security

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
BOGUS_TOKEN = "x" * 43
CALLERS = ("anonymous", "non_member", "member", "admin", "owner", "platform_admin", "api_key")

# Routes that are not part of the API surface under test (with the reason).
EXCLUDED = {
    ("GET", "/api/v1/openapi.json"): "the public API description",
    ("HEAD", "/api/v1/openapi.json"): "the public API description",
    ("GET", "/docs"): "Swagger UI (off in production)",
    ("HEAD", "/docs"): "Swagger UI (off in production)",
    ("GET", "/docs/oauth2-redirect"): "Swagger UI",
    ("HEAD", "/docs/oauth2-redirect"): "Swagger UI",
    ("GET", "/health"): "liveness probe, no data",
    ("GET", "/ready"): "readiness probe, no data",
    ("GET", "/redoc"): "ReDoc (off in production, like Swagger UI)",
    (
        "GET",
        "/metrics",
    ): "Prometheus counters by route template, no tenant data (METRICS_ENABLED; keep it off the public network)",
    # The web console (issue 12): pages and its own session endpoints, outside the API.
    ("GET", "/console"): "console page",
    ("GET", "/console/static/{name:path}"): "console assets",
    ("POST", "/console/api/session"): "console login (its session wraps /api/v1/auth; cookie-based)",
    ("POST", "/console/api/session/logout"): "console logout",
    ("POST", "/console/api/session/refresh"): "console refresh",
    ("POST", "/console/api/session/switch"): "console organization switch",
    # Landing pages of the links in emails (issue 10): static pages that post to the API.
    ("GET", "/invitations/accept"): "email link page",
    ("GET", "/reset-password"): "email link page",
    ("GET", "/verify-email"): "email link page",
}

# Expected status per caller, in CALLERS order:
#     anonymous, non_member, member, admin, owner, platform_admin, api_key
# 409 means "allowed, but the state says no" (activating an active organization): authorization
# passed. The API key holds every permission a key may hold, owner-level ones included (SPEC §11:
# a key carries what its creator granted it), hence its 200s on lifecycle and ownership routes.
ORG = "/api/v1/organizations/{org_id}"
MATRIX: dict[tuple[str, str], tuple[int, int, int, int, int, int, int]] = {
    ("GET", "/api/v1/health"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/ready"): (200, 200, 200, 200, 200, 200, 200),
    # auth: user routes; an API key is refused on every one of them
    ("POST", "/api/v1/auth/register"): (201, 201, 201, 201, 201, 201, 403),
    ("POST", "/api/v1/auth/token"): (200, 200, 200, 200, 200, 200, 403),
    ("POST", "/api/v1/auth/refresh"): (401, 401, 401, 401, 401, 401, 403),
    ("POST", "/api/v1/auth/logout"): (401, 204, 204, 204, 204, 204, 403),
    ("POST", "/api/v1/auth/switch-organization"): (401, 404, 200, 200, 200, 404, 403),
    ("GET", "/api/v1/auth/me"): (401, 200, 200, 200, 200, 200, 403),
    ("GET", "/api/v1/auth/sessions"): (401, 200, 200, 200, 200, 200, 403),
    ("DELETE", "/api/v1/auth/sessions/{session_id}"): (401, 204, 204, 204, 204, 204, 403),
    # users: the target is a plain member of the organization
    ("GET", "/api/v1/users/{user_id}"): (401, 404, 200, 200, 200, 200, 403),
    ("PATCH", "/api/v1/users/{user_id}/profile"): (401, 404, 403, 403, 403, 403, 403),
    ("PATCH", "/api/v1/users/{user_id}/password"): (401, 404, 403, 403, 403, 403, 403),
    ("POST", "/api/v1/users/{user_id}/activate"): (401, 404, 403, 403, 403, 409, 403),
    ("POST", "/api/v1/users/{user_id}/deactivate"): (401, 404, 403, 403, 403, 200, 403),
    ("POST", "/api/v1/users/{user_id}/suspend"): (401, 404, 403, 403, 403, 200, 403),
    ("POST", "/api/v1/users/{user_id}/unsuspend"): (401, 404, 403, 403, 403, 409, 403),
    ("POST", "/api/v1/users/{user_id}/archive"): (401, 404, 403, 403, 403, 200, 403),
    ("POST", "/api/v1/users/{user_id}/restore"): (401, 404, 403, 403, 403, 409, 403),
    # my organizations
    ("POST", "/api/v1/organizations"): (401, 201, 201, 201, 201, 201, 403),
    ("GET", "/api/v1/organizations"): (401, 200, 200, 200, 200, 200, 403),
    # one organization (SPEC §5 table: docs/authorization.md)
    ("GET", ORG): (401, 404, 200, 200, 200, 200, 200),
    ("PATCH", ORG): (401, 404, 403, 200, 200, 200, 200),
    ("GET", ORG + "/permissions"): (401, 404, 200, 200, 200, 200, 200),
    ("POST", ORG + "/activate"): (401, 404, 403, 403, 409, 409, 409),
    ("POST", ORG + "/deactivate"): (401, 404, 403, 403, 200, 200, 200),
    ("POST", ORG + "/suspend"): (401, 404, 403, 403, 403, 200, 403),
    ("POST", ORG + "/unsuspend"): (401, 404, 403, 403, 403, 409, 403),
    ("POST", ORG + "/archive"): (401, 404, 403, 403, 200, 200, 200),
    ("POST", ORG + "/restore"): (401, 404, 403, 403, 409, 409, 409),
    ("GET", ORG + "/members"): (401, 404, 200, 200, 200, 200, 200),
    ("POST", ORG + "/members"): (401, 404, 403, 201, 201, 201, 201),
    ("DELETE", ORG + "/members/{user_id}"): (401, 404, 403, 204, 204, 204, 204),
    ("GET", ORG + "/admins"): (401, 404, 200, 200, 200, 200, 200),
    ("POST", ORG + "/admins"): (401, 404, 403, 403, 201, 201, 201),
    ("DELETE", ORG + "/admins/{user_id}"): (401, 404, 403, 403, 204, 204, 204),
    ("GET", ORG + "/owner"): (401, 404, 200, 200, 200, 200, 200),
    ("POST", ORG + "/transfer-ownership"): (401, 404, 403, 403, 200, 200, 200),
    ("GET", ORG + "/events"): (401, 404, 403, 200, 200, 200, 200),
    ("POST", ORG + "/api-keys"): (401, 404, 403, 201, 201, 201, 403),
    ("GET", ORG + "/api-keys"): (401, 404, 403, 200, 200, 200, 200),
    ("DELETE", ORG + "/api-keys/{api_key_id}"): (401, 404, 403, 204, 204, 204, 204),
    # email: verification, password reset, email change. The probes carry bogus tokens (400
    # `invalid_token` is the answer to the token, after authorization); the reset request answers
    # 202 for any email (no enumeration).
    ("POST", "/api/v1/auth/verify-email/request"): (401, 202, 202, 202, 202, 202, 403),
    ("POST", "/api/v1/auth/verify-email"): (400, 400, 400, 400, 400, 400, 403),
    ("POST", "/api/v1/auth/password-reset"): (202, 202, 202, 202, 202, 202, 403),
    ("POST", "/api/v1/auth/password-reset/confirm"): (400, 400, 400, 400, 400, 400, 403),
    ("POST", "/api/v1/users/{user_id}/email"): (401, 404, 403, 403, 403, 403, 403),
    # invitations (an unknown invitation id: 404 after authorization; declining by token needs no login)
    ("POST", ORG + "/invitations"): (401, 404, 403, 201, 201, 201, 201),
    ("GET", ORG + "/invitations"): (401, 404, 403, 200, 200, 200, 200),
    ("DELETE", ORG + "/invitations/{invitation_id}"): (401, 404, 403, 404, 404, 404, 404),
    ("GET", "/api/v1/invitations"): (401, 200, 200, 200, 200, 200, 403),
    ("POST", "/api/v1/invitations/accept"): (401, 400, 400, 400, 400, 400, 403),
    ("POST", "/api/v1/invitations/decline"): (400, 400, 400, 400, 400, 400, 403),
    ("POST", "/api/v1/invitations/{invitation_id}/accept"): (401, 404, 404, 404, 404, 404, 403),
    ("POST", "/api/v1/invitations/{invitation_id}/decline"): (401, 404, 404, 404, 404, 404, 403),
}


def refusal_code(path: str, caller: str, status: int) -> str | None:
    """The code a refusal in the table carries, so that a cell fails on the right status for the
    wrong reason (a member's 403 that is `organization_suspended`, a non-member's 404 that is a
    routing `not_found`). None: an answer, or a refusal by the state (409), not by authorization."""
    org_scoped = "{org_id}" in path
    if status == 401:
        return "invalid_refresh_token" if path == "/api/v1/auth/refresh" else "not_authenticated"
    if status == 400:
        return "invalid_token"  # the probes' bogus tokens, answered after authorization
    if status == 403 and not org_scoped and caller == "api_key":
        return "api_key_not_allowed"
    if status == 403 and org_scoped:
        return "forbidden"
    if status == 404 and org_scoped and caller == "non_member":
        return "organization_not_found"
    if status == 404 and "{invitation_id}" in path:
        return "invitation_not_found"
    if path.startswith("/api/v1/users/{user_id}"):
        if status == 404:
            return "user_not_found"
        if status == 403:
            return "not_yourself" if path.endswith(("/profile", "/password", "/email")) else "platform_admin_required"
    if status == 404 and path == "/api/v1/auth/switch-organization":
        return "organization_not_found"
    return None


def served_routes() -> set[tuple[str, str]]:
    from app.main import create_app

    app = create_app(make_settings("postgresql+asyncpg://unused/unused"))
    return {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        for method in (route.methods or ())
        if route.path
    }


def test_every_route_has_a_row() -> None:
    """ASVS 5.0 V8.2.1 — a route nobody wrote an authorization rule for fails here."""
    served = served_routes()
    missing = sorted(served - set(MATRIX) - set(EXCLUDED))
    stale = sorted(set(MATRIX) - served)
    assert not missing, f"routes without a row in MATRIX (add one, or exclude with a reason): {missing}"
    assert not stale, f"rows for routes the app no longer serves: {stale}"


def test_anonymous_callers_get_nothing_but_the_public_routes() -> None:
    """API2:2023 / ASVS 5.0 V8.2.1 — the table itself: only register, token, reset request, health, ready."""
    open_routes = {route for route, row in MATRIX.items() if 200 <= row[0] < 300}
    assert open_routes == {
        ("GET", "/api/v1/health"),
        ("GET", "/api/v1/ready"),
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/token"),
        ("POST", "/api/v1/auth/password-reset"),
    }


def test_non_members_see_no_organization_route() -> None:
    """API1:2023 — every org-scoped answer to a non-member is 404 (existence is not revealed)."""
    assert all(row[1] == 404 for (_, path), row in MATRIX.items() if "{org_id}" in path)


@dataclass
class World:
    org: uuid.UUID
    owner: uuid.UUID
    admin: uuid.UUID
    member: uuid.UUID
    plain: uuid.UUID  # removed, granted admin, made owner, the /users target
    admin_target: uuid.UUID  # an admin: revoked
    outsider: uuid.UUID  # an active user: added
    non_member: uuid.UUID
    platform_admin: uuid.UUID
    victim_key: uuid.UUID
    key: str


async def _key(db: AsyncSession, org: uuid.UUID, owner: uuid.UUID) -> tuple[uuid.UUID, str]:
    key, prefix, secret_hash = new_key()
    key_id = uuid.uuid4()
    await keys_repo.create_api_key(
        db,
        api_key_id=key_id,
        organization_id=org,
        name="matrix",
        prefix=prefix,
        secret_hash=secret_hash,
        permissions=[p.value for p in sorted_permissions(KEY_GRANTABLE)],
        created_by=owner,
        created_at=START,
        expires_at=None,
    )
    return key_id, key


@pytest.fixture(scope="module")
async def world(engine: AsyncEngine) -> AsyncIterator[tuple[AsyncConnection, World, FastAPI, FrozenClock]]:
    clock = FrozenClock(START)
    app = shared_app(make_settings(str(engine.url.render_as_string(hide_password=False))), engine, clock)
    async with shared_world(engine) as (conn, db):
        owner = await create_user(db, now=START, email=f"owner-{uuid.uuid4().hex[:8]}@example.com")
        org = await make_org(db, owner, START, name="Target")
        admin, member, plain, admin_target, outsider, non_member = [await create_user(db, now=START) for _ in range(6)]
        await join(db, org, admin, START, admin=True)
        await join(db, org, member, START)
        await join(db, org, plain, START)
        await join(db, org, admin_target, START, admin=True)
        platform_admin = await create_user(db, now=START, platform_admin=True)
        victim_key, _ = await _key(db, org, owner)
        _, key = await _key(db, org, owner)
        await db.flush()
        built = World(
            org, owner, admin, member, plain, admin_target, outsider, non_member, platform_admin, victim_key, key
        )
        yield conn, built, app, clock


def _request(method: str, path: str, w: World, session_id: str | None) -> tuple[str, dict[str, Any] | None]:
    user = w.admin_target if "/admins/" in path else w.plain
    url = (
        path.replace("{org_id}", str(w.org))
        .replace("{user_id}", str(user))
        .replace("{api_key_id}", str(w.victim_key))
        .replace("{session_id}", session_id or str(uuid.uuid4()))
        .replace("{invitation_id}", str(uuid.uuid4()))
    )
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/api/v1/auth/register"): {
            "email": f"new-{uuid.uuid4().hex[:8]}@example.com",
            "password": "a fresh passphrase 2026",
            "display_name": "New",
        },
        ("POST", "/api/v1/auth/token"): {"email": "matrix-login@example.com", "password": DEFAULT_PASSWORD},
        ("POST", "/api/v1/auth/refresh"): {"refresh_token": "not-a-refresh-token"},
        ("POST", "/api/v1/auth/switch-organization"): {"organization_id": str(w.org)},
        ("PATCH", "/api/v1/users/{user_id}/profile"): {"display_name": "Renamed"},
        ("PATCH", "/api/v1/users/{user_id}/password"): {
            "current_password": DEFAULT_PASSWORD,
            "new_password": "another passphrase 2026",
        },
        ("POST", "/api/v1/users/{user_id}/suspend"): {"reason": "matrix"},
        ("POST", "/api/v1/organizations"): {"name": "Mine"},
        ("PATCH", ORG): {"name": "Renamed"},
        ("POST", ORG + "/suspend"): {"reason": "matrix"},
        ("POST", ORG + "/members"): {"user_id": str(w.outsider)},
        ("POST", ORG + "/admins"): {"user_id": str(w.plain)},
        ("POST", ORG + "/transfer-ownership"): {"user_id": str(w.plain)},
        ("POST", ORG + "/api-keys"): {"name": "child", "permissions": ["members:read"]},
        ("POST", "/api/v1/auth/verify-email"): {"token": BOGUS_TOKEN},
        ("POST", "/api/v1/auth/password-reset"): {"email": "someone@example.com"},
        ("POST", "/api/v1/auth/password-reset/confirm"): {"token": BOGUS_TOKEN, "new_password": "brand new pass 2026"},
        ("POST", "/api/v1/users/{user_id}/email"): {
            "new_email": "moved@example.com",
            "current_password": DEFAULT_PASSWORD,
        },
        ("POST", ORG + "/invitations"): {"email": "invitee@example.com"},
        ("POST", "/api/v1/invitations/accept"): {"token": BOGUS_TOKEN},
        ("POST", "/api/v1/invitations/decline"): {"token": BOGUS_TOKEN},
    }
    return url, bodies.get((method, path))


CELLS = [
    pytest.param(method, path, caller, MATRIX[(method, path)][i], id=f"{method} {path}-{caller}")
    for (method, path) in MATRIX
    for i, caller in enumerate(CALLERS)
]


@pytest.mark.parametrize(("method", "path", "caller", "expected"), CELLS)
async def test_authorization_cell(
    world: tuple[AsyncConnection, World, FastAPI, FrozenClock], method: str, path: str, caller: str, expected: int
) -> None:
    """API1/API5:2023, ASVS 5.0 V8.2 — one route, one kind of caller, the status the table says."""
    conn, w, app, clock = world
    settings = app.state.settings
    async with cell_client(conn, app) as (db, client):
        if path == "/api/v1/auth/token":
            await create_user(db, now=START, email="matrix-login@example.com")
        headers: dict[str, str] = {}
        session_id = None
        if caller == "api_key":
            headers = {"X-API-Key": w.key}
        elif caller != "anonymous":
            user = {
                "non_member": w.non_member,
                "member": w.member,
                "admin": w.admin,
                "owner": w.owner,
                "platform_admin": w.platform_admin,
            }[caller]
            token = await issue_token(db, settings, user_id=user, now=clock.now())
            session_id = jwt.decode(token, options={"verify_signature": False})["sid"]
            headers = bearer(token)
        url, body = _request(method, path, w, session_id)
        response = await client.request(method, url, json=body, headers=headers)
    assert response.status_code == expected, f"{method} {url} as {caller}: {response.text}"
    assert response.status_code < 500
    code = refusal_code(path, caller, expected)
    if code is not None:
        assert response.json()["errors"][0]["code"] == code, f"{method} {url} as {caller}: {response.text}"
