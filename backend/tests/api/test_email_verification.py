"""Email verification and REQUIRE_VERIFIED_EMAIL, through a real SMTP server (SPEC §9)."""

from __future__ import annotations

import pytest
from conftest import SHARED, make_settings
from factories import assert_error
from mail import delivery_in_test

from app.core.config import Settings

AUTH = "/api/v1/auth"
PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def settings(cluster, smtp_url) -> Settings:
    return make_settings(cluster.url(SHARED), smtp_url=smtp_url)


async def register(client, email: str, **extra) -> dict:
    response = await client.post(
        f"{AUTH}/register", json={"email": email, "password": PASSWORD, "display_name": "Alice", **extra}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def login(client, email: str, password: str = PASSWORD):
    return await client.post(f"{AUTH}/token", json={"email": email, "password": password})


async def bearer_for(client, email: str) -> dict[str, str]:
    response = await login(client, email)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_register_mails_a_link_whose_token_verifies_the_email(client, db, settings, clock, inbox) -> None:
    body = await register(client, "alice@example.com")
    assert body["user"]["email_verified"] is False

    attempts = await delivery_in_test(db, settings, clock).deliver_due()
    assert [a.sent for a in attempts] == [True]
    message = inbox.last_to("alice@example.com")
    assert message.subject == "Verify your email address"
    assert message.link.startswith("http://127.0.0.1:8000/verify-email?token=")

    headers = await bearer_for(client, "alice@example.com")
    assert (await client.get(f"{AUTH}/me", headers=headers)).json()["user"]["email_verified"] is False

    verified = await client.post(f"{AUTH}/verify-email", json={"token": message.token})
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"email": "alice@example.com", "email_verified": True}
    me = (await client.get(f"{AUTH}/me", headers=headers)).json()
    assert me["user"]["email_verified"] is True

    # single use
    again = await client.post(f"{AUTH}/verify-email", json={"token": message.token})
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "invalid_token"


async def test_expired_unknown_and_wrong_purpose_tokens_are_one_400(client, db, settings, clock, inbox) -> None:
    await register(client, "bob@example.com")
    await client.post(f"{AUTH}/password-reset", json={"email": "bob@example.com"})
    await delivery_in_test(db, settings, clock).deliver_due()
    verify_token = next(m for m in inbox.to("bob@example.com") if m.subject.startswith("Verify")).token
    reset_token = next(m for m in inbox.to("bob@example.com") if m.subject.startswith("Reset")).token

    answers = []
    # a reset token is no verification token, and a verification token resets no password
    answers.append(await client.post(f"{AUTH}/verify-email", json={"token": reset_token}))
    answers.append(
        await client.post(
            f"{AUTH}/password-reset/confirm", json={"token": verify_token, "new_password": "a brand new passphrase 7"}
        )
    )
    answers.append(await client.post(f"{AUTH}/verify-email", json={"token": "x" * 43}))
    clock.advance(hours=settings.email_verify_hours, seconds=1)
    answers.append(await client.post(f"{AUTH}/verify-email", json={"token": verify_token}))
    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert answer.json()["errors"][0]["code"] == "invalid_token"
    # just before expiry it works
    clock.advance(seconds=-2)
    assert (await client.post(f"{AUTH}/verify-email", json={"token": verify_token})).status_code == 200


async def test_request_another_link_is_throttled_per_user(client, db, settings, clock, inbox) -> None:
    await register(client, "carol@example.com")
    headers = await bearer_for(client, "carol@example.com")
    for _ in range(settings.email_requests_per_hour):
        response = await client.post(f"{AUTH}/verify-email/request", headers=headers)
        assert response.status_code == 202, response.text
    throttled = await client.post(f"{AUTH}/verify-email/request", headers=headers)
    assert_error(throttled, 429, "too_many_requests")
    assert int(throttled.headers["Retry-After"]) > 0
    await delivery_in_test(db, settings, clock).deliver_due()
    assert len(inbox.to("carol@example.com")) == 1 + settings.email_requests_per_hour
    clock.advance(hours=1, seconds=1)
    headers = await bearer_for(client, "carol@example.com")  # the old access token expired meanwhile
    assert (await client.post(f"{AUTH}/verify-email/request", headers=headers)).status_code == 202
    assert_error(await client.post(f"{AUTH}/verify-email/request"), 401, "not_authenticated")


async def test_require_verified_email(client, db, settings, clock, inbox, app) -> None:
    app.state.settings = settings.model_copy(update={"require_verified_email": True})
    refused = await client.post(
        f"{AUTH}/register",
        json={"email": "dan@example.com", "password": PASSWORD, "display_name": "Dan", "organization_name": "Acme"},
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "email_not_verified"
    await register(client, "dan@example.com")

    wrong = await login(client, "dan@example.com", "not the password at all")
    unknown = await login(client, "nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    right = await login(client, "dan@example.com")
    assert right.status_code == 403
    assert right.json()["errors"][0]["code"] == "email_not_verified"

    # verified: logs in; unverified users (made verified-free here by the switch) cannot create orgs
    await delivery_in_test(db, settings, clock).deliver_due()
    assert (
        await client.post(f"{AUTH}/verify-email", json={"token": inbox.last_to("dan@example.com").token})
    ).status_code == 200
    headers = await bearer_for(client, "dan@example.com")
    created = await client.post("/api/v1/organizations", json={"name": "Dan's"}, headers=headers)
    assert created.status_code == 201, created.text
    assert (created.json()["name"], created.json()["role"]) == ("Dan's", "owner")


async def test_unverified_user_cannot_create_organizations_when_required(client, db, settings, clock, app) -> None:
    await register(client, "erin@example.com")
    headers = await bearer_for(client, "erin@example.com")
    app.state.settings = settings.model_copy(update={"require_verified_email": True})
    refused = await client.post("/api/v1/organizations", json={"name": "Erin's"}, headers=headers)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "email_not_verified"
