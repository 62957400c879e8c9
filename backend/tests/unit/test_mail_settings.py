"""SMTP_URL parsing and the mail settings' startup checks (SPEC §9)."""

from __future__ import annotations

import secrets

import pytest
from pydantic import ValidationError

from app.core.config import Settings
from app.core.mail import SmtpTarget, parse_smtp_url
from app.services.outbox import MAX_ATTEMPTS, RETRY_BASE, RETRY_CAP, next_attempt_at

STRONG = secrets.token_urlsafe(48)


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("smtp://mail.example.com", SmtpTarget("mail.example.com", 25, None, None, False, None)),
        ("smtp://u:p@127.0.0.1:2525", SmtpTarget("127.0.0.1", 2525, "u", "p", False, None)),
        ("smtp://u:p@h:587?starttls=true", SmtpTarget("h", 587, "u", "p", False, True)),
        ("smtp://h?starttls=false", SmtpTarget("h", 25, None, None, False, False)),
        ("smtps://a%40b.c:p%3Aq@h", SmtpTarget("h", 465, "a@b.c", "p:q", True, None)),
    ],
)
def test_smtp_urls(url: str, target: SmtpTarget) -> None:
    assert parse_smtp_url(url) == target


@pytest.mark.parametrize(
    "url", ["http://h", "smtp://", "smtps://h?starttls=true", "smtp://h?tls=1", "smtp://h:port", "mail.example.com"]
)
def test_bad_smtp_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="SMTP_URL"):
        parse_smtp_url(url)


def test_a_bad_smtp_url_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="SMTP_URL"):
        Settings(smtp_url="http://nope")  # type: ignore[call-arg]


def test_links_need_the_token_placeholder() -> None:
    with pytest.raises(ValidationError, match="EMAIL_VERIFY_URL"):
        Settings(email_verify_url="https://app.example.com/verify")  # type: ignore[call-arg]


def test_production_with_smtp_needs_every_link() -> None:
    base = {
        "environment": "production",
        "jwt_secret_key": STRONG,
        "database_url": "postgresql+asyncpg://db.example.com/tenancy",
        "smtp_url": "smtps://u:p@mail.example.com",
    }
    links = {
        "email_verify_url": "https://app.example.com/verify?token={token}",
        "password_reset_url": "https://app.example.com/reset?token={token}",
        "invitation_url": "https://app.example.com/join?token={token}",
    }
    with pytest.raises(ValidationError, match="PASSWORD_RESET_URL") as refused:
        Settings(**base, email_verify_url=links["email_verify_url"])  # type: ignore[arg-type]
    assert "EMAIL_VERIFY_URL" not in str(refused.value).split("must be set")[0]
    assert Settings(**base, **links).smtp_url  # type: ignore[arg-type]
    # without SMTP_URL nothing is mailed, so the development links are harmless
    without = {k: v for k, v in base.items() if k != "smtp_url"}
    assert Settings(**without).smtp_url is None  # type: ignore[arg-type]


def test_backoff_doubles_up_to_the_cap_and_gives_up() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    delays = [next_attempt_at(n, now) for n in range(1, MAX_ATTEMPTS + 1)]
    assert delays[0] == now + RETRY_BASE and delays[1] == now + 2 * RETRY_BASE
    assert all(d is not None and d - now <= RETRY_CAP for d in delays[:-1])
    assert delays[-1] is None
