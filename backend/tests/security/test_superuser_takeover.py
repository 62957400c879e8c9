"""Threat: taking over the platform through the operator's `create-superuser` (finding 1).

An attacker registers the operator's email through the API before the operator runs
`tenancy create-superuser`. The command must not promote that account silently.

References: OWASP ASVS 5.0 V8.2 (authorization: function-level access control), OWASP API Top 10
2023 API5 (Broken Function Level Authorization).
"""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest
from conftest import make_settings, run_cli
from sqlalchemy import text

from app.core.clock import FrozenClock
from app.core.database import make_engine, make_sessionmaker
from app.main import create_app
from app.repositories import users as users_repo

pytestmark = [pytest.mark.security, pytest.mark.concurrency]

ATTACKER_PASSWORD = "attacker chose this 2026"
OPERATOR_PASSWORD = "operator passphrase 2026"


async def _api(url: str, clock: FrozenClock, method: str, path: str, **kw: object) -> httpx.Response:
    engine = make_engine(url, pool_size=1)
    app = create_app(make_settings(url), clock=clock)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.request(method, path, **kw)  # type: ignore[arg-type]
    finally:
        await engine.dispose()


def register(url: str, clock: FrozenClock, email: str, password: str) -> None:
    response = asyncio.run(
        _api(
            url,
            clock,
            "POST",
            "/api/v1/auth/register",
            json={"email": email, "password": password, "display_name": "X"},
        )
    )
    assert response.status_code == 201, response.text


def log_in(url: str, clock: FrozenClock, email: str, password: str) -> int:
    response = asyncio.run(_api(url, clock, "POST", "/api/v1/auth/token", json={"email": email, "password": password}))
    return response.status_code


async def _state(url: str, email: str) -> users_repo.UserState | None:
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as db:
            credential = await users_repo.find_credential_by_email(db, email)
            return await users_repo.get_user_state(db, credential.user_id) if credential else None
    finally:
        await engine.dispose()


def state(url: str, email: str) -> users_repo.UserState | None:
    return asyncio.run(_state(url, email))


def test_preregistered_operator_email_is_not_promoted_silently(cli_env: str, clock: FrozenClock) -> None:
    """ASVS 5.0 V8.2.1 / API5:2023 — the attack run's takeover: register first, wait for the operator."""
    register(cli_env, clock, "admin@example.org", ATTACKER_PASSWORD)
    with pytest.raises(SystemExit) as refused:
        run_cli("create-superuser", "--email", "admin@example.org", "--password", OPERATOR_PASSWORD)
    assert refused.value.code not in (0, None)
    assert "email_already_registered" in str(refused.value.code) and "--promote" in str(refused.value.code)
    attacker = state(cli_env, "admin@example.org")
    assert attacker is not None and not attacker.is_platform_admin


def test_refusal_also_without_a_password(cli_env: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """ASVS 5.0 V8.2.1 — no password given is no reason to promote either."""
    register(cli_env, clock, "someone@example.org", ATTACKER_PASSWORD)
    monkeypatch.setattr("sys.stdin", open(os.devnull))  # noqa: SIM115
    with pytest.raises(SystemExit) as refused:
        run_cli("create-superuser", "--email", "SOMEONE@example.org")
    assert "email_already_registered" in str(refused.value.code)
    assert not state(cli_env, "someone@example.org").is_platform_admin  # type: ignore[union-attr]


def test_promote_never_changes_the_password(cli_env: str, clock: FrozenClock) -> None:
    """ASVS 5.0 V6.2 — promoting keeps the account's own credential; the given password is not applied."""
    register(cli_env, clock, "member@example.org", ATTACKER_PASSWORD)
    run_cli("create-superuser", "--email", "member@example.org", "--password", OPERATOR_PASSWORD, "--promote")
    member = state(cli_env, "member@example.org")
    assert member is not None and member.is_platform_admin
    assert log_in(cli_env, clock, "member@example.org", ATTACKER_PASSWORD) == 200
    assert log_in(cli_env, clock, "member@example.org", OPERATOR_PASSWORD) == 401


def test_demote_superuser_appends_a_revocation(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    """API5:2023 — the operator can take the grant back; the revocation is a fact, nothing is updated."""
    run_cli("create-superuser", "--email", "ops@example.org", "--password", OPERATOR_PASSWORD)
    run_cli("demote-superuser", "--email", " OPS@example.org")
    assert "no longer a platform administrator" in capsys.readouterr().err
    ops = state(cli_env, "ops@example.org")
    assert ops is not None and not ops.is_platform_admin

    async def kinds() -> list[str]:
        engine = make_engine(cli_env, pool_size=1)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text("SELECT kind FROM platform_admin_grants WHERE user_id = :u ORDER BY occurred_at, id"),
                    {"u": ops.id},
                )
                return [r.kind for r in rows]
        finally:
            await engine.dispose()

    assert asyncio.run(kinds()) == ["granted", "revoked"]


@pytest.mark.parametrize("email", ["nobody@example.org", "plain@example.org"])
def test_demote_refuses_unknown_and_non_admin_users(cli_env: str, clock: FrozenClock, email: str) -> None:
    """API5:2023 — demoting someone who is no admin changes nothing and says so (exit code ≠ 0)."""
    register(cli_env, clock, "plain@example.org", ATTACKER_PASSWORD)
    with pytest.raises(SystemExit) as refused:
        run_cli("demote-superuser", "--email", email)
    assert refused.value.code not in (0, None)
