"""`tenancy create-superuser`, run as a subprocess against a test database (DATABASE_URL).

The embedded-database path of the CLI is the same `database_url()` context `serve` and
`migrate` use (exercised elsewhere); here the command talks to a database of the test's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import make_settings, run_cli

from app.core.clock import FrozenClock
from app.core.database import make_engine, make_sessionmaker
from app.main import create_app
from app.repositories import users as users_repo

pytestmark = pytest.mark.concurrency

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "operator passphrase 2026"


def tenancy(
    url: str, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TENANCY_", "DATABASE_URL", "JWT_", "ARGON2_"))
    }
    environment.update({"DATABASE_URL": url, "ENVIRONMENT": "test", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=environment,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def state_of(url: str, email: str) -> users_repo.UserState | None:
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as db:
            credential = await users_repo.find_credential_by_email(db, email)
            return await users_repo.get_user_state(db, credential.user_id) if credential else None
    finally:
        await engine.dispose()


async def log_in(url: str, email: str, password: str, clock: FrozenClock) -> httpx.Response:
    engine = make_engine(url, pool_size=1)
    app = create_app(make_settings(url), clock=clock)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.post("/api/v1/auth/token", json={"email": email, "password": password})
    finally:
        await engine.dispose()


async def test_create_in_a_subprocess(committed_db_url: str, clock: FrozenClock) -> None:
    # Password on stdin (not a terminal), a new user.
    created = tenancy(committed_db_url, "create-superuser", "--email", " Root@Example.com", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    assert "created platform administrator: root@example.com" in created.stderr
    assert PASSWORD not in created.stderr + created.stdout
    root = await state_of(committed_db_url, "root@example.com")
    assert root is not None and root.is_platform_admin and root.display_name == "Administrator"
    assert (await log_in(committed_db_url, "root@example.com", PASSWORD, clock)).status_code == 200


# In-process runs of the same command (a subprocess costs seconds of imports each).


def test_password_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse
    import io

    from app.cli import _superuser_password

    class Pipe(io.StringIO):
        def isatty(self) -> bool:
            return False

    monkeypatch.delenv("TENANCY_SUPERUSER_PASSWORD", raising=False)
    monkeypatch.setattr(sys, "stdin", Pipe("from stdin\r\nsecond line\n"))
    assert _superuser_password(argparse.Namespace(password="from flag")) == "from flag"
    assert _superuser_password(argparse.Namespace(password=None)) == "from stdin"
    monkeypatch.setenv("TENANCY_SUPERUSER_PASSWORD", "from env")
    assert _superuser_password(argparse.Namespace(password=None)) == "from env"
    monkeypatch.delenv("TENANCY_SUPERUSER_PASSWORD")
    monkeypatch.setattr(sys, "stdin", Pipe(""))
    assert _superuser_password(argparse.Namespace(password=None)) is None


def test_refusals_create_nothing(
    cli_env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    with pytest.raises(SystemExit) as weak:
        run_cli("create-superuser", "--email", "weak@example.com", "--password", "password1234")
    assert "password_too_common" in str(weak.value.code)
    with pytest.raises(SystemExit) as bad_email:
        run_cli("create-superuser", "--email", "not an email", "--password", PASSWORD)
    assert "invalid_email" in str(bad_email.value.code)
    monkeypatch.setenv("TENANCY_SUPERUSER_PASSWORD", "")
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115
    with pytest.raises(SystemExit) as missing:
        run_cli("create-superuser", "--email", "nopass@example.com")
    assert "password_required" in str(missing.value.code)
    for email in ("weak@example.com", "nopass@example.com"):
        assert asyncio.run(state_of(cli_env, email)) is None


def test_running_twice_changes_nothing(
    cli_env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    monkeypatch.setenv("TENANCY_SUPERUSER_PASSWORD", PASSWORD)
    run_cli("create-superuser", "--email", "twice@example.com", "--display-name", "Ops")
    run_cli("create-superuser", "--email", "twice@example.com", "--promote")
    err = capsys.readouterr().err
    assert "created platform administrator: twice@example.com" in err
    assert "already a platform administrator" in err
    state = asyncio.run(state_of(cli_env, "twice@example.com"))
    assert state is not None and state.is_platform_admin and state.display_name == "Ops"


def test_promote_an_existing_user(cli_env: str, capsys: pytest.CaptureFixture[str], clock: FrozenClock) -> None:
    import asyncio

    async def register() -> None:
        engine = make_engine(cli_env, pool_size=1)
        app = create_app(make_settings(cli_env), clock=clock)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            registered = await client.post(
                "/api/v1/auth/register", json={"email": "member@example.com", "password": PASSWORD, "display_name": "M"}
            )
            assert registered.status_code == 201
        await engine.dispose()

    asyncio.run(register())
    # The flag's password is not applied to an existing user.
    run_cli("create-superuser", "--email", "MEMBER@example.com", "--password", "ignored passphrase 1", "--promote")
    assert "promoted existing user" in capsys.readouterr().err
    member = asyncio.run(state_of(cli_env, "member@example.com"))
    assert member is not None and member.is_platform_admin and member.display_name == "M"
    assert asyncio.run(log_in(cli_env, "member@example.com", PASSWORD, clock)).status_code == 200
