"""Users: who sees whom, profile, password change, status changes by platform administrators."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from factories import DEFAULT_PASSWORD, assert_error, bearer, create_user, issue_token
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.config import Settings
from app.models import SessionRevocation
from app.repositories import organizations as orgs_repo
from app.services.organizations import create_organization

API = "/api/v1"
NEW_PASSWORD = "another fine passphrase"


async def login(client: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
    response = await client.post(f"{API}/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


async def me_status(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get(f"{API}/auth/me", headers=bearer(token))).status_code


# ------------------------------------------------------------------------------- visibility


async def test_who_sees_whom(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, clock: FrozenClock
) -> None:
    now = clock.now()
    alice = await create_user(db, now=now, email="alice@example.com", display_name="Alice")
    bob = await create_user(db, now=now, email="bob@example.com", display_name="Bob")
    stranger = await create_user(db, now=now, email="stranger@example.com")
    admin = await create_user(db, now=now, platform_admin=True)
    org = await create_organization(db, creator_id=alice, name="Shared", now=now)
    await orgs_repo.add_member_event(db, organization_id=org, user_id=bob, kind="added", at=now, actor_id=alice)
    tokens = {u: await issue_token(db, settings, user_id=u, now=now) for u in (alice, bob, stranger, admin)}

    self_view = (await client.get(f"{API}/users/{alice}", headers=bearer(tokens[alice]))).json()
    assert self_view["email"] == "alice@example.com" and self_view["display_name"] == "Alice"
    co_member = await client.get(f"{API}/users/{alice}", headers=bearer(tokens[bob]))
    assert co_member.status_code == 200
    assert co_member.json()["email"] is None and co_member.json()["display_name"] == "Alice"
    assert co_member.headers["cache-control"] == "no-store"
    admin_view = (await client.get(f"{API}/users/{stranger}", headers=bearer(tokens[admin]))).json()
    assert admin_view["email"] == "stranger@example.com"
    # A stranger cannot tell a real user from a made-up id.
    real = await client.get(f"{API}/users/{alice}", headers=bearer(tokens[stranger]))
    fake = await client.get(f"{API}/users/{uuid.uuid4()}", headers=bearer(tokens[stranger]))
    assert_error(real, 404, "user_not_found")
    assert real.json() == fake.json()
    malformed = await client.get(f"{API}/users/not-a-uuid", headers=bearer(tokens[alice]))
    assert_error(malformed, 422, "validation_error", pointer="/path/user_id")
    assert_error(await client.get(f"{API}/users/{alice}"), 401, "not_authenticated")

    # Leaving the organization ends the visibility.
    await orgs_repo.add_member_event(db, organization_id=org, user_id=bob, kind="removed", at=now, actor_id=bob)
    assert_error(await client.get(f"{API}/users/{alice}", headers=bearer(tokens[bob])), 404, "user_not_found")


# --------------------------------------------------------------------------------- profile


async def test_update_own_profile(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, clock: FrozenClock
) -> None:
    user = await create_user(db, now=clock.now())
    token = await issue_token(db, settings, user_id=user, now=clock.now())
    url = f"{API}/users/{user}/profile"
    response = await client.patch(
        url,
        json={"display_name": "  New Name ", "bio": "hi", "avatar_url": "https://example.com/a.png"},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["display_name"], body["bio"], body["avatar_url"]) == ("New Name", "hi", "https://example.com/a.png")
    multi = await client.patch(url, json={"bio": "line one\nline two\tindented"}, headers=bearer(token))
    assert multi.status_code == 200 and multi.json()["bio"] == "line one\nline two\tindented"
    cleared = (await client.patch(url, json={"bio": None}, headers=bearer(token))).json()
    assert cleared["bio"] is None and cleared["display_name"] == "New Name"
    for bad, where in (
        ({"avatar_url": "javascript:alert(1)"}, "/body/avatar_url"),
        ({"avatar_url": "ftp://example.com/a.png"}, "/body/avatar_url"),
        ({"avatar_url": "https://"}, "/body/avatar_url"),
        ({"avatar_url": "https://example.com/\u0000.png"}, "/body/avatar_url"),
        ({"bio": "nul \u0000 byte"}, "/body/bio"),
        ({"display_name": ""}, "/body/display_name"),
        ({"display_name": None}, "/body"),  # the model's own check: it cannot be cleared
        ({"email": "x@example.com"}, "/body/email"),
        ({"status": "active"}, "/body/status"),
    ):
        response = await client.patch(url, json=bad, headers=bearer(token))
        assert_error(response, 422, "validation_error", pointer=where)
        assert "javascript" not in response.text


async def test_only_the_user_changes_their_profile(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, clock: FrozenClock
) -> None:
    now = clock.now()
    owner = await create_user(db, now=now)
    member = await create_user(db, now=now)
    stranger = await create_user(db, now=now)
    admin = await create_user(db, now=now, platform_admin=True)
    org = await create_organization(db, creator_id=owner, name="Org", now=now)
    await orgs_repo.add_member_event(db, organization_id=org, user_id=member, kind="added", at=now, actor_id=owner)
    body = {"display_name": "Hacked"}
    for caller, status, code in (
        (member, 403, "not_yourself"),
        (admin, 403, "not_yourself"),
        (stranger, 404, "user_not_found"),
    ):
        token = await issue_token(db, settings, user_id=caller, now=now)
        response = await client.patch(f"{API}/users/{owner}/profile", json=body, headers=bearer(token))
        assert_error(response, status, code)


# -------------------------------------------------------------------------------- password


async def test_password_change_ends_the_other_sessions_only(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock
) -> None:
    user = await create_user(db, now=clock.now(), email="pw@example.com")
    current = await login(client, "pw@example.com")
    other = await login(client, "pw@example.com")
    url = f"{API}/users/{user}/password"
    weak = await client.patch(
        url,
        json={"current_password": DEFAULT_PASSWORD, "new_password": "password1234"},
        headers=bearer(current["access_token"]),
    )
    assert weak.status_code == 422 and weak.json()["errors"][0]["code"] == "password_too_common"
    response = await client.patch(
        url,
        json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(current["access_token"]),
    )
    assert response.status_code == 200, response.text
    assert NEW_PASSWORD not in response.text and DEFAULT_PASSWORD not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert await me_status(client, current["access_token"]) == 200
    assert await me_status(client, other["access_token"]) == 401
    refused = await client.post(f"{API}/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert_error(refused, 401, "invalid_refresh_token")
    assert (
        await client.post(f"{API}/auth/refresh", json={"refresh_token": current["refresh_token"]})
    ).status_code == 200
    reasons = (await db.execute(select(SessionRevocation.reason))).scalars().all()
    assert reasons == ["password_changed"]
    bad_old = await client.post(f"{API}/auth/token", json={"email": "pw@example.com", "password": DEFAULT_PASSWORD})
    assert_error(bad_old, 401, "invalid_credentials")
    await login(client, "pw@example.com", NEW_PASSWORD)


async def test_password_change_is_for_oneself(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, clock: FrozenClock
) -> None:
    victim = await create_user(db, now=clock.now())
    admin = await create_user(db, now=clock.now(), platform_admin=True)
    token = await issue_token(db, settings, user_id=admin, now=clock.now())
    body = {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    response = await client.patch(f"{API}/users/{victim}/password", json=body, headers=bearer(token))
    assert_error(response, 403, "not_yourself")
    extra = {**body, "password_hash": "x"}
    response = await client.patch(f"{API}/users/{admin}/password", json=extra, headers=bearer(token))
    assert_error(response, 422, "validation_error", pointer="/body/password_hash")


# ---------------------------------------------------------------------------------- status


async def post_status(
    client: httpx.AsyncClient, token: str, user_id: uuid.UUID, action: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    return await client.post(f"{API}/users/{user_id}/{action}", json=body, headers=bearer(token))


@pytest.mark.parametrize(
    ("action", "undo", "status", "undone"),
    [
        ("deactivate", "activate", "inactive", "user_already_active"),
        ("suspend", "unsuspend", "suspended", "user_not_suspended"),
        ("archive", "restore", "archived", "user_not_archived"),
    ],
)
async def test_status_changes_take_effect_at_once_and_reactivation_revives_nothing(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    clock: FrozenClock,
    action: str,
    undo: str,
    status: str,
    undone: str,
) -> None:
    admin = await create_user(db, now=clock.now(), platform_admin=True)
    admin_token = await issue_token(db, settings, user_id=admin, now=clock.now())
    user = await create_user(db, now=clock.now(), email="target@example.com")
    pair = await login(client, "target@example.com")
    assert await me_status(client, pair["access_token"]) == 200

    body = {"reason": "spam"} if action == "suspend" else None
    changed = await post_status(client, admin_token, user, action, body)
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == status
    # The still-unexpired access token is refused on the very next request, and refresh too.
    assert await me_status(client, pair["access_token"]) == 401
    refused = await client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert_error(refused, 401, "invalid_refresh_token")
    again = await post_status(client, admin_token, user, action, body)
    assert_error(again, 409, f"user_already_{status}")

    restored = await post_status(client, admin_token, user, undo)
    assert restored.status_code == 200 and restored.json()["status"] == "active"
    # Old tokens stay dead; a new login works.
    assert await me_status(client, pair["access_token"]) == 401
    refused = await client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert_error(refused, 401, "invalid_refresh_token")
    fresh = await login(client, "target@example.com")
    assert await me_status(client, fresh["access_token"]) == 200
    undo_again = await post_status(client, admin_token, user, undo)
    assert_error(undo_again, 409, undone)
    reasons = set((await db.execute(select(SessionRevocation.reason))).scalars().all())
    assert f"user_{status if status != 'inactive' else 'deactivated'}" in reasons


async def test_only_platform_admins_change_status(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, clock: FrozenClock
) -> None:
    now = clock.now()
    owner = await create_user(db, now=now)
    member = await create_user(db, now=now)
    stranger = await create_user(db, now=now)
    org = await create_organization(db, creator_id=owner, name="Org", now=now)
    await orgs_repo.add_member_event(db, organization_id=org, user_id=member, kind="added", at=now, actor_id=owner)
    owner_token = await issue_token(db, settings, user_id=owner, now=now)
    stranger_token = await issue_token(db, settings, user_id=stranger, now=now)
    # An organization owner is no platform admin: 403 for a user they can see, 404 otherwise.
    seen = await post_status(client, owner_token, member, "suspend", {"reason": "x"})
    assert seen.status_code == 403 and seen.json()["errors"][0]["code"] == "platform_admin_required"
    assert_error(await post_status(client, stranger_token, member, "deactivate"), 404, "user_not_found")
    assert_error(await post_status(client, owner_token, owner, "archive"), 403, "platform_admin_required")
    assert await me_status(client, owner_token) == 200


async def test_platform_admins_cannot_lock_themselves_out(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, clock: FrozenClock
) -> None:
    admin = await create_user(db, now=clock.now(), platform_admin=True)
    token = await issue_token(db, settings, user_id=admin, now=clock.now())
    for action, body in (("deactivate", None), ("suspend", {"reason": "oops"}), ("archive", None)):
        response = await post_status(client, token, admin, action, body)
        assert response.status_code == 409
        assert response.json()["errors"][0]["code"] == "cannot_change_own_status"
    assert await me_status(client, token) == 200


async def test_status_conflicts_and_validation(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, clock: FrozenClock
) -> None:
    admin = await create_user(db, now=clock.now(), platform_admin=True)
    token = await issue_token(db, settings, user_id=admin, now=clock.now())
    user = await create_user(db, now=clock.now())
    expected = {"activate": "user_already_active", "unsuspend": "user_not_suspended", "restore": "user_not_archived"}
    for action, code in expected.items():
        response = await post_status(client, token, user, action)
        assert response.status_code == 409 and response.json()["errors"][0]["code"] == code
    no_reason = await post_status(client, token, user, "suspend")
    assert_error(no_reason, 422, "validation_error", pointer="/body")  # a reason is required
    response = await post_status(client, token, user, "suspend", {"reason": "x", "until": "never"})
    assert_error(response, 422, "validation_error", pointer="/body/until")
    response = await post_status(client, token, user, "suspend", {"reason": "x\u0000"})
    assert_error(response, 422, "validation_error", pointer="/body/reason")
    assert_error(await post_status(client, token, uuid.uuid4(), "deactivate"), 404, "user_not_found")
    # Independent facts: a suspended user can also be deactivated; lifting one leaves the other.
    assert (await post_status(client, token, user, "suspend", {"reason": "x"})).json()["status"] == "suspended"
    assert (await post_status(client, token, user, "deactivate")).json()["status"] == "suspended"
    assert (await post_status(client, token, user, "unsuspend")).json()["status"] == "inactive"
