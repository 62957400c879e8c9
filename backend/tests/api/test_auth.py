"""Register, log in (form and JSON), me, refresh, logout, switch organization, own sessions."""

from __future__ import annotations

import base64
import json
import uuid

import httpx
from factories import DEFAULT_PASSWORD, assert_error, bearer, create_user
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.config import Settings
from app.models import LoginAttempt, SessionRevocation, UserLoginPassword
from app.repositories import organizations as orgs_repo
from app.repositories import users as users_repo
from app.services.organizations import create_organization

API = "/api/v1"
PASSWORD = "a perfectly fine passphrase"


async def register(client: httpx.AsyncClient, email: str, **extra: object) -> httpx.Response:
    body = {"email": email, "password": PASSWORD, "display_name": "Newcomer", **extra}
    return await client.post(f"{API}/auth/register", json=body)


async def login(
    client: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD, **extra: object
) -> httpx.Response:
    return await client.post(f"{API}/auth/token", json={"email": email, "password": password, **extra})


async def tokens(client: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD, **extra: object) -> dict:
    response = await login(client, email, password, **extra)
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------------------------- register


async def test_register_creates_an_active_user(client: httpx.AsyncClient) -> None:
    response = await register(client, "  Alice@Example.COM ")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["organization"] is None
    user = body["user"]
    assert user["email"] == "alice@example.com"
    assert user["display_name"] == "Newcomer"
    assert user["status"] == "active"
    assert set(user) == {"id", "email", "display_name", "bio", "avatar_url", "status", "email_verified", "created_at"}
    assert PASSWORD not in response.text and "argon2" not in response.text
    assert response.headers["cache-control"] == "no-store"


async def test_register_with_an_organization_makes_the_user_its_owner(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    response = await register(client, "founder@example.com", organization_name="Acme")
    assert response.status_code == 201, response.text
    org = response.json()["organization"]
    assert org["name"] == "Acme" and org["status"] == "active"
    user_id = uuid.UUID(response.json()["user"]["id"])
    memberships = await orgs_repo.memberships_of_user(db, user_id)
    assert [(str(m.organization.id), m.role) for m in memberships] == [(org["id"], "owner")]


async def test_register_normalizes_the_email_and_refuses_a_duplicate(client: httpx.AsyncClient) -> None:
    assert (await register(client, "bob@example.com")).status_code == 201
    # NFKC: fullwidth letters are the same address; so is another case.
    again = await register(client, "ＢＯＢ@Example.com")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "email_already_registered"


async def test_register_rejects_mass_assignment_and_bad_input(client: httpx.AsyncClient) -> None:
    sneaky = await register(client, "eve@example.com", role="owner")
    assert sneaky.status_code == 422
    assert sneaky.json()["errors"][0]["source"]["pointer"] == "/body/role"
    for field, value, code in [
        ("email", "not-an-email", "invalid_email"),
        ("email", "a" * 250 + "@example.com", "invalid_email"),
        ("password", "short pass", "password_too_short"),
        ("password", "x" * 257, "password_too_long"),
        ("password", "qwerty123456", "password_too_common"),
        ("password", "QWERTY123456", "password_too_common"),
        ("password", "aaaaaaaaaaaaaaaa", "password_too_common"),
    ]:
        body = {"email": "eve@example.com", "password": PASSWORD, "display_name": "Eve", field: value}
        response = await client.post(f"{API}/auth/register", json=body)
        assert response.status_code == 422, (field, value)
        assert response.json()["errors"][0]["code"] == code
        assert value not in response.text  # the 422 never echoes input


async def test_validation_errors_never_echo_the_password(client: httpx.AsyncClient) -> None:
    secret = "hunter2-but-longer-and-secret"
    response = await client.post(
        f"{API}/auth/register", json={"email": 5, "password": secret, "display_name": "", "extra": secret}
    )
    assert response.status_code == 422
    assert secret not in response.text
    errors = response.json()["errors"]
    assert {e["source"]["pointer"] for e in errors} == {"/body/email", "/body/display_name", "/body/extra"}


# ------------------------------------------------------------------------------------- login


async def test_login_with_json_and_with_the_oauth2_form(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock
) -> None:
    await create_user(db, now=clock.now(), email="carol@example.com")
    body = await tokens(client, "Carol@Example.com")
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["organization_id"] is None
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "organization_id"}

    form = await client.post(
        f"{API}/auth/token",
        data={"grant_type": "password", "username": "carol@example.com", "password": DEFAULT_PASSWORD, "scope": ""},
    )
    assert form.status_code == 200, form.text
    assert form.headers["cache-control"] == "no-store"
    me = await client.get(f"{API}/auth/me", headers=bearer(form.json()["access_token"]))
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "carol@example.com"


async def test_login_form_and_json_refuse_unknown_fields(client: httpx.AsyncClient) -> None:
    json_ = await client.post(f"{API}/auth/token", json={"email": "x@example.com", "password": "p", "admin": True})
    assert_error(json_, 422, "validation_error", pointer="/body/admin")
    form = await client.post(f"{API}/auth/token", data={"username": "x@example.com", "password": "p", "admin": "1"})
    assert_error(form, 422, "validation_error", pointer="/body/admin")
    broken = await client.post(f"{API}/auth/token", content=b"{not json", headers={"content-type": "application/json"})
    assert_error(broken, 422, "validation_error")


async def test_the_token_endpoint_documents_form_and_json(client: httpx.AsyncClient) -> None:
    spec = (await client.get(f"{API}/openapi.json")).json()
    content = spec["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/x-www-form-urlencoded", "application/json"}
    flows = spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/token"


async def test_a_rehash_happens_at_login_when_parameters_change(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock
) -> None:
    from argon2 import PasswordHasher

    user_id = uuid.uuid4()
    await users_repo.create_user(db, user_id=user_id, created_at=clock.now())
    stronger = PasswordHasher(time_cost=3, memory_cost=19 * 1024, parallelism=1).hash(PASSWORD)
    await users_repo.add_credential(
        db, user_id=user_id, email="old@example.com", password_hash=stronger, at=clock.now(), actor_id=None
    )
    await users_repo.add_profile(
        db, user_id=user_id, display_name="Old", bio=None, avatar_url=None, at=clock.now(), actor_id=None
    )
    await tokens(client, "old@example.com", PASSWORD)
    hashes = (
        (
            await db.execute(
                select(UserLoginPassword.password_hash)
                .where(UserLoginPassword.user_id == user_id)
                .order_by(UserLoginPassword.id)
            )
        )
        .scalars()
        .all()
    )
    assert len(hashes) == 2
    assert "t=3" in hashes[0] and "t=2" in hashes[1] and hashes[1].startswith("$argon2id$")
    await tokens(client, "old@example.com", PASSWORD)  # the new hash works, and needs no rehash
    count = len((await db.execute(select(UserLoginPassword.id).where(UserLoginPassword.user_id == user_id))).all())
    assert count == 2


async def test_failed_logins_are_recorded_even_though_they_fail(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock, settings: Settings
) -> None:
    from app.services.throttling import throttle_key

    await create_user(db, now=clock.now(), email="dave@example.com")
    assert_error(await login(client, "dave@example.com", "wrong password!!"), 401, "invalid_credentials")
    assert_error(await login(client, "nobody@example.com", "wrong password!!"), 401, "invalid_credentials")
    rows = (await db.execute(select(LoginAttempt.account_key, LoginAttempt.succeeded, LoginAttempt.ip_address))).all()
    # Keyed hashes of the emails, never the emails (see docs/security.md, login_attempts retention).
    assert {(r.account_key, r.succeeded, str(r.ip_address)) for r in rows} >= {
        (throttle_key(settings, "dave@example.com"), False, "203.0.113.7"),
        (throttle_key(settings, "nobody@example.com"), False, "203.0.113.7"),
    }
    assert not any("@" in r.account_key for r in rows)


# --------------------------------------------------------------------- organizations at login


async def test_login_into_an_organization_and_switching(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock
) -> None:
    user_id = await create_user(db, now=clock.now(), email="erin@example.com")
    first = await create_organization(db, creator_id=user_id, name="First", now=clock.now())
    second = await create_organization(db, creator_id=user_id, name="Second", now=clock.now())
    pair = await tokens(client, "erin@example.com", organization_id=str(first))
    assert pair["organization_id"] == str(first)
    me = (await client.get(f"{API}/auth/me", headers=bearer(pair["access_token"]))).json()
    assert me["active_organization"]["id"] == str(first)
    assert me["active_organization"]["role"] == "owner"
    assert sorted(m["id"] for m in me["memberships"]) == sorted([str(first), str(second)])
    assert {m["role"] for m in me["memberships"]} == {"owner"}

    # With the access token alone: a new access token carrying the organization, no refresh token.
    switched = await client.post(
        f"{API}/auth/switch-organization", json={"organization_id": str(second)}, headers=bearer(pair["access_token"])
    )
    assert switched.status_code == 200, switched.text
    only_access = switched.json()
    assert only_access["organization_id"] == str(second) and "refresh_token" not in only_access
    me = (await client.get(f"{API}/auth/me", headers=bearer(only_access["access_token"]))).json()
    assert me["active_organization"]["id"] == str(second)

    # With the refresh token: rotated, a new pair; the previous refresh token is now used.
    switched = await client.post(
        f"{API}/auth/switch-organization",
        json={"organization_id": str(second), "refresh_token": pair["refresh_token"]},
        headers=bearer(pair["access_token"]),
    )
    assert switched.status_code == 200, switched.text
    new = switched.json()
    assert new["organization_id"] == str(second) and new["refresh_token"]
    me = (await client.get(f"{API}/auth/me", headers=bearer(new["access_token"]))).json()
    assert me["active_organization"]["id"] == str(second)
    assert (
        me["session_id"]
        == (await client.get(f"{API}/auth/me", headers=bearer(pair["access_token"]))).json()["session_id"]
    )
    refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert refreshed.status_code == 200 and refreshed.json()["organization_id"] == str(second)
    replay = await client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert_error(replay, 401, "invalid_refresh_token")


async def test_entering_an_organization_one_may_not(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock
) -> None:
    owner = await create_user(db, now=clock.now())
    await create_user(db, now=clock.now(), email="frank@example.com")
    theirs = await create_organization(db, creator_id=owner, name="Theirs", now=clock.now())
    # Not a member: 404 at login and at switch, the same as an organization that does not exist.
    for org in (theirs, uuid.uuid4()):
        response = await login(client, "frank@example.com", organization_id=str(org))
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "organization_not_found"
    pair = await tokens(client, "frank@example.com")
    for org in (theirs, uuid.uuid4()):
        response = await client.post(
            f"{API}/auth/switch-organization", json={"organization_id": str(org)}, headers=bearer(pair["access_token"])
        )
        assert_error(response, 404, "organization_not_found")


async def test_a_suspended_organization_cannot_be_entered_and_refresh_drops_it(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock
) -> None:
    from app.models import OrganizationSuspension

    user_id = await create_user(db, now=clock.now(), email="gina@example.com")
    org = await create_organization(db, creator_id=user_id, name="Shaky", now=clock.now())
    pair = await tokens(client, "gina@example.com", organization_id=str(org))
    db.add(OrganizationSuspension(organization_id=org, kind="suspended", reason="audit", occurred_at=clock.now()))
    await db.flush()

    at_login = await login(client, "gina@example.com", organization_id=str(org))
    assert at_login.status_code == 403
    assert at_login.json()["errors"][0]["code"] == "organization_suspended"
    switched = await client.post(
        f"{API}/auth/switch-organization", json={"organization_id": str(org)}, headers=bearer(pair["access_token"])
    )
    assert_error(switched, 403, "organization_suspended")
    refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200
    assert refreshed.json()["organization_id"] is None


# ------------------------------------------------------------------------------ me and logout


async def test_me_requires_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/auth/me")
    assert_error(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_logout_ends_access_and_refresh_tokens(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock
) -> None:
    await create_user(db, now=clock.now(), email="hank@example.com")
    pair = await tokens(client, "hank@example.com")
    other = await tokens(client, "hank@example.com")
    out = await client.post(f"{API}/auth/logout", headers=bearer(pair["access_token"]))
    assert out.status_code == 204
    assert_error(await client.get(f"{API}/auth/me", headers=bearer(pair["access_token"])), 401, "not_authenticated")
    refresh = await client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert_error(refresh, 401, "invalid_refresh_token")
    # Another session of the same user is untouched.
    assert (await client.get(f"{API}/auth/me", headers=bearer(other["access_token"]))).status_code == 200
    reasons = (await db.execute(select(SessionRevocation.reason))).scalars().all()
    assert "logout" in reasons


async def test_logout_with_a_refresh_token(client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock) -> None:
    await create_user(db, now=clock.now(), email="ivy@example.com")
    pair = await tokens(client, "ivy@example.com")
    out = await client.post(f"{API}/auth/logout", json={"refresh_token": pair["refresh_token"]})
    assert out.status_code == 204
    assert_error(await client.get(f"{API}/auth/me", headers=bearer(pair["access_token"])), 401, "not_authenticated")
    again = await client.post(f"{API}/auth/logout", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 204  # already ended: nothing to do
    unknown = await client.post(f"{API}/auth/logout", json={"refresh_token": "not-a-token"})
    assert_error(unknown, 401, "invalid_refresh_token")
    assert_error(await client.post(f"{API}/auth/logout"), 401, "not_authenticated")


# ---------------------------------------------------------------------------------- sessions


async def test_list_and_revoke_own_sessions(client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock) -> None:
    await create_user(db, now=clock.now(), email="jack@example.com")
    first = await tokens(client, "jack@example.com")
    clock.advance(seconds=1)
    second = await client.post(
        f"{API}/auth/token",
        json={"email": "jack@example.com", "password": DEFAULT_PASSWORD},
        headers={"user-agent": "phone/1.0"},
    )
    second = second.json()
    listed = await client.get(f"{API}/auth/sessions", headers=bearer(second["access_token"]))
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert listed.json()["next_cursor"] is None
    assert len(items) == 2
    assert set(items[0]) == {"id", "created_at", "last_used_at", "user_agent", "current"}
    assert items[0]["current"] is True and items[0]["user_agent"] == "phone/1.0"
    assert items[1]["current"] is False

    # Paging: one per page, opaque cursor.
    page = (await client.get(f"{API}/auth/sessions?limit=1", headers=bearer(second["access_token"]))).json()
    assert [i["id"] for i in page["items"]] == [items[0]["id"]]
    page2 = (
        await client.get(
            f"{API}/auth/sessions",
            params={"limit": 1, "cursor": page["next_cursor"]},
            headers=bearer(second["access_token"]),
        )
    ).json()
    assert [i["id"] for i in page2["items"]] == [items[1]["id"]] and page2["next_cursor"] is None

    def encode_cursor(data: dict[str, object]) -> str:  # the wire format, written by hand
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    for cursor in (
        "garbage",
        encode_cursor({"k": "sessions", "c": 5, "i": 7}),
        encode_cursor({"k": "sessions", "c": "2026-01-01T00:00:00", "i": str(uuid.uuid4())}),  # naive
        encode_cursor({"k": "members", "a": str(uuid.uuid4())}),  # another list's cursor
    ):
        bad = await client.get(
            f"{API}/auth/sessions", params={"cursor": cursor}, headers=bearer(second["access_token"])
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "invalid_cursor", cursor

    gone = await client.delete(f"{API}/auth/sessions/{items[1]['id']}", headers=bearer(second["access_token"]))
    assert gone.status_code == 204
    assert_error(await client.get(f"{API}/auth/me", headers=bearer(first["access_token"])), 401, "not_authenticated")
    refresh = await client.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_error(refresh, 401, "invalid_refresh_token")
    left = (await client.get(f"{API}/auth/sessions", headers=bearer(second["access_token"]))).json()["items"]
    assert [i["id"] for i in left] == [items[0]["id"]]


async def test_another_users_session_is_not_found(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock
) -> None:
    await create_user(db, now=clock.now(), email="kate@example.com")
    await create_user(db, now=clock.now(), email="liam@example.com")
    kate = await tokens(client, "kate@example.com")
    liam = await tokens(client, "liam@example.com")
    liam_session = (await client.get(f"{API}/auth/me", headers=bearer(liam["access_token"]))).json()["session_id"]
    response = await client.delete(f"{API}/auth/sessions/{liam_session}", headers=bearer(kate["access_token"]))
    assert_error(response, 404, "session_not_found")
    unknown = await client.delete(f"{API}/auth/sessions/{uuid.uuid4()}", headers=bearer(kate["access_token"]))
    assert unknown.json() == response.json()  # not theirs, or none at all: one answer
    assert (await client.get(f"{API}/auth/me", headers=bearer(liam["access_token"]))).status_code == 200
    listed = (await client.get(f"{API}/auth/sessions", headers=bearer(kate["access_token"]))).json()["items"]
    assert liam_session not in {i["id"] for i in listed}


async def test_sessions_past_their_timeouts_are_not_listed(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock, settings
) -> None:
    await create_user(db, now=clock.now(), email="mia@example.com")
    old = await tokens(client, "mia@example.com")
    clock.advance(minutes=settings.session_idle_minutes - 1)
    fresh = await tokens(client, "mia@example.com")
    clock.advance(minutes=2)  # `old` is now idle past the timeout
    listed = (await client.get(f"{API}/auth/sessions", headers=bearer(fresh["access_token"]))).json()["items"]
    assert len(listed) == 1 and listed[0]["current"]
    refresh = await client.post(f"{API}/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert_error(refresh, 401, "invalid_refresh_token")


async def test_control_characters_are_refused_not_a_500(client: httpx.AsyncClient) -> None:
    # PostgreSQL cannot store NUL: without care these would be 500s.
    login_nul = await login(client, "a\u0000@example.com", "x" * 12)
    assert login_nul.status_code == 401
    assert login_nul.json()["errors"][0]["code"] == "invalid_credentials"
    for extra in ({"display_name": "x\u0000y"}, {"organization_name": "Acme\u0000"}, {"display_name": "tab\there"}):
        response = await register(client, "ctl@example.com", **extra)
        [(field, _)] = extra.items()
        assert_error(response, 422, "validation_error", pointer=f"/body/{field}")
    assert (await register(client, "ctl\u0000@example.com")).json()["errors"][0]["code"] == "invalid_email"
