"""`tenancy outbox`: the latest messages with their links, from a real process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEST_JWT_KEY, make_settings
from sqlalchemy import text

from app.core.database import make_engine, make_sessionmaker
from app.core.sealed import unseal
from app.services.mail_messages import send_password_reset, send_verification
from app.services.users import create_account

pytestmark = pytest.mark.integration

TENANCY = Path(sys.executable).with_name("tenancy")


def _outbox(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"TEST_DATABASE_URL", "SMTP_URL"}}
    env["DATABASE_URL"] = url
    env["JWT_SECRET_KEY"] = TEST_JWT_KEY  # the links are sealed under the test settings' key
    return subprocess.run([str(TENANCY), "outbox", *args], env=env, capture_output=True, text=True, timeout=60)


async def test_outbox_prints_recipient_subject_and_link(committed_db_url, clock) -> None:
    assert "empty" in (await asyncio.to_thread(_outbox, committed_db_url)).stdout
    settings = make_settings(committed_db_url)
    engine = make_engine(committed_db_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            user_id = await create_account(
                db, email="ada@example.com", password_hash="x", display_name="A", now=clock.now()
            )
            await send_verification(db, settings, user_id=user_id, email="ada@example.com", now=clock.now())
            clock.advance(seconds=1)
            await send_password_reset(db, settings, user_id=user_id, email="ada@example.com", now=clock.now())
        async with engine.connect() as conn:
            sealed = (await conn.execute(text("SELECT link FROM outbox_messages ORDER BY id DESC"))).scalars()
            links = [unseal(settings, link) for link in sealed]
    finally:
        await engine.dispose()

    result = await asyncio.to_thread(_outbox, committed_db_url, "--limit", "1")
    assert result.returncode == 0, result.stderr
    assert "ada@example.com" in result.stdout and "Reset your password" in result.stdout
    assert links[0] in result.stdout and links[1] not in result.stdout
    assert "not sent" in result.stdout

    both = await asyncio.to_thread(_outbox, committed_db_url)
    assert links[0] in both.stdout and links[1] in both.stdout
    assert both.stdout.index(links[0]) < both.stdout.index(links[1])  # newest first
    assert (await asyncio.to_thread(_outbox, committed_db_url, "--limit", "0")).returncode != 0


async def test_without_the_key_the_link_stays_sealed(committed_db_url, clock) -> None:
    """Another signing key cannot open the sealed links: the output says so instead of a link."""
    settings = make_settings(committed_db_url)
    engine = make_engine(committed_db_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            user_id = await create_account(
                db, email="bo@example.com", password_hash="x", display_name="B", now=clock.now()
            )
            await send_verification(db, settings, user_id=user_id, email="bo@example.com", now=clock.now())
    finally:
        await engine.dispose()

    def other_key() -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in {"TEST_DATABASE_URL", "SMTP_URL"}}
        env |= {"DATABASE_URL": committed_db_url, "JWT_SECRET_KEY": "another-key-" + "y" * 40}
        return subprocess.run([str(TENANCY), "outbox"], env=env, capture_output=True, text=True, timeout=60)

    result = await asyncio.to_thread(other_key)
    assert result.returncode == 0, result.stderr
    assert "cannot unseal" in result.stdout and "token=" not in result.stdout
