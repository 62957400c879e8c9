"""`tenancy serve` as a real process with SMTP_URL: its delivery loop sends the messages the requests
append, to a real SMTP server (aiosmtpd), and stops with the process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from mail import free_port

pytestmark = pytest.mark.integration

TENANCY = Path(sys.executable).with_name("tenancy")
PASSWORD = "correct horse battery staple 42"


async def _eventually(predicate, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("not in time")


def _spawn(args: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """`tenancy …` in the background, its output in `log` (a pipe could fill up and block it)."""
    with log.open("w") as out:
        return subprocess.Popen([str(TENANCY), *args], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)


async def test_serve_sends_mail_over_smtp(committed_db_url, smtp_url, inbox, tmp_path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"TEST_DATABASE_URL"}}
    env |= {
        "DATABASE_URL": committed_db_url,
        "SMTP_URL": smtp_url,
        "MAIL_FROM": "Tenancy <no-reply@tenancy.test>",
        "EMAIL_VERIFY_URL": "https://app.example.com/verify?token={token}",
        "JWT_SECRET_KEY": "serve-mail-test-key-" + "x" * 40,
        "TENANCY_DATA_DIR": str(tmp_path / "data"),
    }
    log = tmp_path / "serve.log"
    proc = _spawn(["serve", "--port", str(port), "--log-level", "warning"], env=env, cwd=tmp_path, log=log)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def healthy() -> bool:
                try:
                    return (await client.get("/health")).status_code == 200
                except httpx.TransportError:
                    return False

            for _ in range(300):
                assert proc.poll() is None, log.read_text()
                if await healthy():
                    break
                await asyncio.sleep(0.2)
            response = await client.post(
                "/api/v1/auth/register", json={"email": "live@example.com", "password": PASSWORD, "display_name": "L"}
            )
            assert response.status_code == 201, response.text
            await _eventually(lambda: inbox.to("live@example.com"))
            message = inbox.last_to("live@example.com")
            assert message.sender == "no-reply@tenancy.test"
            assert message.link.startswith("https://app.example.com/verify?token=")
            verified = await client.post("/api/v1/auth/verify-email", json={"token": message.token})
            assert verified.json() == {"email": "live@example.com", "email_verified": True}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=30) == 0, log.read_text()
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"tenancy serve ignored SIGTERM:\n{log.read_text()}")
