"""Fixtures of the browser tests (imported by each test module; a `conftest.py` here would shadow
the suite's own `conftest` module): a real `uvicorn` serving the app on 127.0.0.1 (one per module, on a committed
database cloned from the migrated template) and Debian's chromium driven by Playwright.

No chromium → every browser test is skipped with one line, except under CI (`CI` set), where
that is a failure. Playwright's own browser downloads are never used (`executable_path`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from app.cli import server_limits
from app.core.sealed import unseal
from app.main import create_app
from tests.conftest import Cluster, make_settings

PASSWORD = "correct horse battery staple 42"
TIMEOUT_MS = 10_000


def chromium_path() -> str | None:
    candidates = [os.environ.get("CHROMIUM_PATH"), *(shutil.which(n) for n in ("chromium", "chromium-browser"))]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


# Decided when the test modules import this one, so a missing browser costs no database or
# server start, and every browser test module is skipped from this one line (pytest folds them).
CHROMIUM = chromium_path()
if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("browser tests need chromium under CI: `apt-get install chromium` (.ci/run does it)")
    pytest.skip(
        "browser tests skipped: no chromium found (apt-get install chromium, or set CHROMIUM_PATH)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module", name="browser")
def browser_fixture() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions do (Playwright's default is 5 s): on a loaded 2-core
    # machine a login's argon2 plus a page's requests can take longer than that.
    expect.set_options(timeout=TIMEOUT_MS)

    with sync_playwright() as playwright:
        # Root (containers, CI) cannot use chromium's sandbox.
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class LiveServer:
    url: str
    database_url: str

    def latest_link(self, recipient: str) -> str:
        """Path and query of the link in the newest message to `recipient` (from the outbox)."""

        async def read() -> str | None:
            import asyncpg
            from sqlalchemy.engine import make_url

            u = make_url(self.database_url)
            conn = await asyncpg.connect(
                user=u.username,
                password=u.password,
                database=u.database,
                host=u.query.get("host") or u.host,
                port=u.port,
            )
            try:
                return await conn.fetchval(  # type: ignore[no-any-return]
                    "SELECT link FROM outbox_messages WHERE recipient = $1 ORDER BY id DESC LIMIT 1", recipient
                )
            finally:
                await conn.close()

        sealed = _in_thread(read())
        assert sealed, f"no message to {recipient}"
        link = unseal(make_settings(self.database_url), sealed)  # the outbox keeps links sealed
        parts = urlsplit(link)
        return f"{parts.path}?{parts.query}"

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/api/v1", timeout=30)

    def register(self, email: str, name: str, organization: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"email": email, "password": PASSWORD, "display_name": name}
        if organization:
            body["organization_name"] = organization
        with self.api() as client:
            response = client.post("/auth/register", json=body)
            assert response.status_code == 201, response.text
            return response.json()

    def token(self, email: str) -> str:
        with self.api() as client:
            response = client.post("/auth/token", json={"email": email, "password": PASSWORD})
            assert response.status_code == 200, response.text
            return response.json()["access_token"]

    def call(self, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
        with self.api() as client:
            return client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kw)


def _in_thread(coro: Any) -> Any:
    """Run a coroutine on a loop of its own (Playwright's sync API keeps a loop running here)."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(coro)))
    thread.start()
    thread.join()
    return result[0] if result else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module", name="live_server")
def live_server_fixture(cluster: Cluster) -> Iterator[LiveServer]:
    import uvicorn

    name = f"tenancy_b_{uuid.uuid4().hex[:12]}"
    url = _in_thread(cluster.clone(name))
    settings = make_settings(url)
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", **server_limits(settings)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", url)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        _in_thread(cluster.drop(name))


@pytest.fixture(name="new_page")
def new_page_fixture(live_server: LiveServer, browser: Any) -> Iterator[Any]:
    """Open a page in a fresh browser context (its own cookies): `new_page(width=360)`."""
    contexts: list[Any] = []

    def open_page(width: int = 1024, height: int = 800) -> Any:
        context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": height})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.errors = []  # type: ignore[attr-defined]
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        # Uncaught exceptions and CSP violations; a failed request (an expected 401 or 409) is not one.
        page.on("console", lambda msg: page.errors.append(msg.text) if "Content Security Policy" in msg.text else None)
        return page

    yield open_page
    for context in contexts:
        context.close()


SCREENSHOTS = os.environ.get("CONSOLE_SCREENSHOTS")  # a directory, e.g. docs/console


def snap(page: Any, name: str) -> None:
    """With CONSOLE_SCREENSHOTS=DIR, save the page as DIR/NAME.png (how docs/console/ is made)."""
    if SCREENSHOTS:
        os.makedirs(SCREENSHOTS, exist_ok=True)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)
