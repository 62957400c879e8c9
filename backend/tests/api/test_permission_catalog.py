"""The permission catalog at the HTTP boundary (SPEC §11): every org-scoped route names one
permission, `GET /organizations/{org_id}/permissions` answers the caller's, and — a property over
random role assignments — what it lists is exactly what the routes let the caller do."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from factories import bearer, create_user, issue_token
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from org_factories import API, join, make_org
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import route_permission
from app.core.config import Settings
from app.domain.permissions import ALL_PERMISSIONS, ROLE_PERMISSIONS, Permission, sorted_permissions

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)  # conftest's clock


def org_routes(app: FastAPI) -> list[tuple[str, str, Permission | None]]:
    """(method, path, declared permission) of every route under `/organizations/{org_id}`."""
    found = []
    for route in iter_route_contexts(app.routes):
        if route.path and "{org_id}" in route.path:
            for method in sorted(route.methods or ()):
                found.append((method, route.path, route_permission(route.original_route)))
    return found


def test_every_org_scoped_route_names_a_permission(app: FastAPI) -> None:
    routes = org_routes(app)
    assert len(routes) >= 18
    unnamed = [f"{method} {path}" for method, path, permission in routes if permission is None]
    assert unnamed == [], "org-scoped routes without Requires(Permission.…)"


def test_no_route_outside_an_organization_names_one(app: FastAPI) -> None:
    for route in iter_route_contexts(app.routes):
        if route.path and "{org_id}" not in route.path:
            assert route_permission(route.original_route) is None, route.path


def test_openapi_names_each_routes_permission(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    assert "`members:add`" in paths["/api/v1/organizations/{org_id}/members"]["post"]["description"]
    assert "`events:read`" in paths["/api/v1/organizations/{org_id}/events"]["get"]["description"]


def test_openapi_offers_the_api_key_only_where_it_works(app: FastAPI) -> None:
    document = app.openapi()
    assert document["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    for path, operations in document["paths"].items():
        for operation in operations.values():
            schemes = {name for requirement in operation.get("security", []) for name in requirement}
            assert ("APIKeyHeader" in schemes) is ("{org_id}" in path), (path, schemes)


# ------------------------------------------------------------------------ GET …/permissions


async def test_permissions_by_role(db: AsyncSession, settings: Settings, client: httpx.AsyncClient) -> None:
    owner, admin, member, stranger = [await create_user(db, now=NOW) for _ in range(4)]
    operator = await create_user(db, now=NOW, platform_admin=True)
    org = await make_org(db, owner, NOW)
    await join(db, org, admin, NOW, admin=True)
    await join(db, org, member, NOW)

    async def ask(user: uuid.UUID) -> httpx.Response:
        token = await issue_token(db, settings, user_id=user, now=NOW)
        return await client.get(f"{API}/{org}/permissions", headers=bearer(token))

    for user, role in ((owner, "owner"), (admin, "admin"), (member, "member")):
        body = (await ask(user)).json()
        assert body == {
            "role": role,
            "is_platform_admin": False,
            "permissions": [str(p) for p in sorted_permissions(ROLE_PERMISSIONS[role])],
        }
    body = (await ask(operator)).json()
    assert body["role"] is None and body["is_platform_admin"] is True
    assert set(body["permissions"]) == {str(p) for p in ALL_PERMISSIONS}
    response = await ask(stranger)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "organization_not_found"


# --------------------------------------------------------------- property: the list is the truth


def probe(route: tuple[str, str], org: uuid.UUID, target: uuid.UUID, admin: uuid.UUID) -> tuple[str, str, Any]:
    """A well-formed request for one org-scoped route (targets chosen so no special case applies:
    the removal target is a plain member other than the caller)."""
    method, path = route
    user = admin if path.endswith("/admins/{user_id}") else target
    url = path.replace("/api/v1/organizations", API).replace("{org_id}", str(org)).replace("{user_id}", str(user))
    bodies: dict[tuple[str, str], Any] = {
        ("PATCH", "/{org_id}"): {"name": "Renamed"},
        ("POST", "/{org_id}/suspend"): {"reason": "probe"},
        ("POST", "/{org_id}/members"): {"email": "nobody-at-all@example.com"},
        ("POST", "/{org_id}/admins"): {"user_id": str(target)},
        ("POST", "/{org_id}/transfer-ownership"): {"user_id": str(target)},
    }
    tail = path.removeprefix("/api/v1/organizations")
    return method, url, bodies.get((method, tail))


ROLE_CHOICES = st.sampled_from(["member", "admin", "owner", "platform_admin"])


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(role=ROLE_CHOICES, others=st.lists(st.sampled_from(["member", "admin"]), min_size=1, max_size=3))
async def test_listed_permissions_agree_with_the_routes(
    db: AsyncSession, settings: Settings, client: httpx.AsyncClient, app: FastAPI, role: str, others: list[str]
) -> None:
    example = await db.begin_nested()
    try:
        owner = await create_user(db, now=NOW)
        org = await make_org(db, owner, NOW)
        users = []
        for other in others:
            user = await create_user(db, now=NOW)
            await join(db, org, user, NOW, admin=other == "admin")
            users.append((user, other))
        target = await create_user(db, now=NOW)
        await join(db, org, target, NOW)
        an_admin = next((u for u, r in users if r == "admin"), owner)
        if role == "owner":
            caller = owner
        elif role == "platform_admin":
            caller = await create_user(db, now=NOW, platform_admin=True)
        else:
            caller = await create_user(db, now=NOW)
            await join(db, org, caller, NOW, admin=role == "admin")
        headers = bearer(await issue_token(db, settings, user_id=caller, now=NOW))

        listed = set((await client.get(f"{API}/{org}/permissions", headers=headers)).json()["permissions"])
        for method, path, permission in org_routes(app):
            request = probe((method, path), org, target, an_admin)
            attempt = await db.begin_nested()
            try:
                response = await client.request(request[0], request[1], json=request[2], headers=headers)
            finally:
                await attempt.rollback()
            forbidden = response.status_code == 403 and response.json()["errors"][0]["code"] == "forbidden"
            assert forbidden is (str(permission) not in listed), (role, method, path, response.text)
    finally:
        await example.rollback()
