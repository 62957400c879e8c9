"""Password reset and email change through a real SMTP server (SPEC §9)."""

from __future__ import annotations

import pytest
from conftest import SHARED, make_settings
from factories import assert_error, create_user
from mail import delivery_in_test

from app.core.config import Settings

AUTH = "/api/v1/auth"
PASSWORD = "correct horse battery staple 42"
NEW_PASSWORD = "an entirely different passphrase 9"


@pytest.fixture
def settings(cluster, smtp_url) -> Settings:
    return make_settings(cluster.url(SHARED), smtp_url=smtp_url)


async def register(client, email: str) -> str:
    response = await client.post(f"{AUTH}/register", json={"email": email, "password": PASSWORD, "display_name": "U"})
    assert response.status_code == 201, response.text
    return response.json()["user"]["id"]


async def login(client, email: str, password: str = PASSWORD):
    return await client.post(f"{AUTH}/token", json={"email": email, "password": password})


async def test_reset_answers_are_byte_identical_for_known_unknown_and_inactive(
    client, db, clock, settings, inbox
) -> None:
    await register(client, "known@example.com")
    await create_user(db, now=clock.now(), email="gone@example.com", status="deactivated")
    answers = [
        await client.post(f"{AUTH}/password-reset", json={"email": email})
        for email in ("known@example.com", "unknown@example.com", "gone@example.com")
    ]
    for answer in answers:
        assert answer.status_code == 202
    assert len({a.content for a in answers}) == 1
    assert (
        len({tuple(sorted((k, v) for k, v in a.headers.items() if k != "x-request-id")) for a in answers}) == 1
    )  # the request id is per request
    await delivery_in_test(db, settings, clock).deliver_due()
    assert [m.subject for m in inbox.to("known@example.com")] == ["Verify your email address", "Reset your password"]
    assert inbox.to("unknown@example.com") == []
    assert inbox.to("gone@example.com") == []


async def test_reset_ends_every_session_and_verifies_the_email(client, db, clock, settings, inbox) -> None:
    await register(client, "reset@example.com")
    sessions = [(await login(client, "reset@example.com")).json() for _ in range(2)]
    assert (await client.post(f"{AUTH}/password-reset", json={"email": "reset@example.com"})).status_code == 202
    await delivery_in_test(db, settings, clock).deliver_due()
    message = inbox.last_to("reset@example.com")
    assert message.link.startswith("http://127.0.0.1:8000/reset-password?token=")

    weak = await client.post(f"{AUTH}/password-reset/confirm", json={"token": message.token, "new_password": "short"})
    assert_error(weak, 422, "password_too_short")  # the policy applies; the token still works afterwards
    done = await client.post(
        f"{AUTH}/password-reset/confirm", json={"token": message.token, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.text

    for pair in sessions:
        me = await client.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
        assert_error(me, 401, "not_authenticated")
        refresh = await client.post(f"{AUTH}/refresh", json={"refresh_token": pair["refresh_token"]})
        assert_error(refresh, 401, "invalid_refresh_token")
    assert_error(await login(client, "reset@example.com"), 401, "invalid_credentials")
    fresh = await login(client, "reset@example.com", NEW_PASSWORD)
    assert fresh.status_code == 200
    me = await client.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"})
    assert me.json()["user"]["email_verified"] is True

    reused = await client.post(
        f"{AUTH}/password-reset/confirm", json={"token": message.token, "new_password": NEW_PASSWORD + "x"}
    )
    assert reused.status_code == 400
    assert reused.json()["errors"][0]["code"] == "invalid_token"


async def test_reset_token_expires(client, db, clock, settings, inbox) -> None:
    await register(client, "late@example.com")
    await client.post(f"{AUTH}/password-reset", json={"email": "late@example.com"})
    await delivery_in_test(db, settings, clock).deliver_due()
    clock.advance(minutes=settings.password_reset_minutes)
    late = await client.post(
        f"{AUTH}/password-reset/confirm",
        json={"token": inbox.last_to("late@example.com").token, "new_password": NEW_PASSWORD},
    )
    assert_error(late, 400, "invalid_token", pointer="/body/token")


async def test_reset_requests_are_throttled_per_email_known_or_not(client, clock, settings) -> None:
    for email in ("limit@example.com", "nobody-here@example.com"):
        codes = [
            (await client.post(f"{AUTH}/password-reset", json={"email": email})).status_code
            for _ in range(settings.email_requests_per_hour + 1)
        ]
        assert codes == [202] * settings.email_requests_per_hour + [429]


async def test_reset_requests_are_throttled_per_address(client, app, settings) -> None:
    app.state.settings = settings.model_copy(update={"login_ip_rate_per_minute": 3})
    codes = [
        (await client.post(f"{AUTH}/password-reset", json={"email": f"u{i}@example.com"})).status_code for i in range(4)
    ]
    assert codes == [202, 202, 202, 429]


async def test_email_change(client, db, clock, settings, inbox) -> None:
    user_id = await register(client, "old@example.com")
    await register(client, "taken@example.com")
    token = (await login(client, "old@example.com")).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/users/{user_id}/email"

    wrong = await client.post(
        url, json={"new_email": "new@example.com", "current_password": "not my password!!"}, headers=headers
    )
    assert wrong.status_code == 403
    assert wrong.json()["errors"][0]["code"] == "invalid_current_password"
    taken = await client.post(
        url, json={"new_email": "Taken@Example.com", "current_password": PASSWORD}, headers=headers
    )
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["code"] == "email_already_registered"

    for new in ("new@example.com", "other@example.com"):
        accepted = await client.post(url, json={"new_email": new, "current_password": PASSWORD}, headers=headers)
        assert accepted.status_code == 202, accepted.text
    await delivery_in_test(db, settings, clock).deliver_due()
    notices = [m for m in inbox.to("old@example.com") if m.subject == "Your login email is about to change"]
    assert len(notices) == 2
    # nothing changes until the new address confirms
    assert (await client.get(f"{AUTH}/me", headers=headers)).json()["user"]["email"] == "old@example.com"

    confirmed = await client.post(f"{AUTH}/verify-email", json={"token": inbox.last_to("new@example.com").token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json() == {"email": "new@example.com", "email_verified": True}
    assert_error(await login(client, "old@example.com"), 401, "invalid_credentials")
    assert (await login(client, "new@example.com")).status_code == 200

    # the other address was registered by someone else meanwhile: 409 on confirm
    await register(client, "other@example.com")
    late = await client.post(f"{AUTH}/verify-email", json={"token": inbox.last_to("other@example.com").token})
    assert late.status_code == 409
    assert late.json()["errors"][0]["code"] == "email_already_registered"


async def test_email_change_is_only_for_yourself(client, db, clock, settings) -> None:
    other = await create_user(db, now=clock.now(), email="someone@example.com")
    await register(client, "me@example.com")
    token = (await login(client, "me@example.com")).json()["access_token"]
    response = await client.post(
        f"/api/v1/users/{other}/email",
        json={"new_email": "x@example.com", "current_password": PASSWORD},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert_error(response, 404, "user_not_found")  # someone the caller cannot see: as if there were none
