"""Several processes serve one database: throttling and revocation are shared through PostgreSQL.

Two real `tenancy serve` processes on one database — one with `--workers 2`, one with a single
worker — so a request may land on any of three processes; every answer must agree.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from conftest import Cluster, cloned_database

pytestmark = pytest.mark.integration

TENANCY = Path(sys.executable).parent / "tenancy"
START_TIMEOUT = 90.0
JWT_KEY = "workers-test-signing-key-Q3v8zLm2pX9wR4tY7uB1nC6eK0aJ5sD"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Serve:
    def __init__(self, tmp: Path, name: str, database_url: str, *args: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if k not in {"TEST_DATABASE_URL", "WEB_CONCURRENCY"}}
        env.update(
            DATABASE_URL=database_url,
            ENVIRONMENT="test",
            JWT_SECRET_KEY=JWT_KEY,
            TENANCY_DATA_DIR=str(tmp / "data"),
            LOGIN_MAX_FAILURES="3",
            LOGIN_IP_RATE_PER_MINUTE="0",
        )
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [str(TENANCY), "serve", "--port", str(self.port), "--log-level", "warning", *args],
                env=env,
                cwd=tmp,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"serve exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        pytest.fail(f"serve did not start in {START_TIMEOUT} s:\n{self.log.read_text()}")

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for child in psutil.Process(self.proc.pid).children(recursive=True):
                    child.kill()
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture(scope="module")
async def workers_db_url(cluster: Cluster) -> AsyncIterator[str]:
    """The servers' database, cloned from the migrated template, dropped after the module."""
    async with cloned_database(cluster) as url:
        yield url


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory, workers_db_url: str) -> Iterator[tuple[Serve, Serve]]:
    """Started once for both tests (three processes, several seconds): neither reads what the other
    leaves (one registers and locks `shared@example.com`, the other counts GET /api/v1/health)."""
    tmp_path = tmp_path_factory.mktemp("workers")
    servers = (
        Serve(tmp_path, "workers-2", workers_db_url, "--workers", "2"),
        Serve(tmp_path, "workers-1", workers_db_url),
    )
    try:
        for server in servers:
            server.wait_healthy()
        yield servers
    finally:
        codes = [server.stop() for server in servers]
        assert codes == [0, 0], [server.log.read_text() for server in servers]


def test_two_processes_share_throttling_and_revocation(two_servers: tuple[Serve, Serve]) -> None:
    multi, single = two_servers
    workers = [p for p in psutil.Process(multi.proc.pid).children() if "python" in p.name().lower()]
    assert len(workers) >= 2, "--workers 2 runs two worker processes"

    a = httpx.Client(base_url=f"{multi.base}/api/v1", timeout=30)
    b = httpx.Client(base_url=f"{single.base}/api/v1", timeout=30)
    credentials = {"email": "shared@example.com", "password": "a long enough passphrase 42"}
    registered = a.post("/auth/register", json={**credentials, "display_name": "Shared"})
    assert registered.status_code == 201, registered.text

    # Revocation: a session opened through one process, ended through the other.
    pair = a.post("/auth/token", json=credentials).json()
    auth = {"Authorization": f"Bearer {pair['access_token']}"}
    assert b.get("/auth/me", headers=auth).status_code == 200
    assert b.post("/auth/logout", json={"refresh_token": pair["refresh_token"]}, headers=auth).status_code == 204
    refused = a.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refused.status_code == 401 and refused.json()["errors"][0]["code"] == "invalid_refresh_token"
    me = a.get("/auth/me", headers=auth)
    assert me.status_code == 401 and me.json()["errors"][0]["code"] == "not_authenticated"

    # Throttling: three failures spread over both processes (LOGIN_MAX_FAILURES=3) lock the
    # account for both, even with the right password.
    wrong = {**credentials, "password": "not the passphrase at all"}
    statuses = [client.post("/auth/token", json=wrong).status_code for client in (a, b, a)]
    assert statuses == [401, 401, 401]
    for client in (a, b):
        locked = client.post("/auth/token", json=credentials)
        assert locked.status_code == 429 and locked.json()["errors"][0]["code"] == "too_many_requests", locked.text
        assert int(locked.headers["Retry-After"]) >= 1
    a.close()
    b.close()


def _pool_size(body: str) -> float | None:
    lines = [line for line in body.splitlines() if line.startswith("tenancy_db_pool_size ")]
    return float(lines[0].split()[-1]) if lines else None


def test_metrics_add_up_over_the_workers(two_servers: tuple[Serve, Serve]) -> None:
    multi, _ = two_servers
    # Both workers have opened their pools (a worker answers /health as soon as it is up, the
    # other may still be starting): the pool-size gauge is summed over the workers' files.
    deadline = time.monotonic() + START_TIMEOUT
    while _pool_size(httpx.get(f"{multi.base}/metrics", timeout=10).text) != 32.0:  # 2 × DB_POOL_SIZE 16
        assert time.monotonic() < deadline, httpx.get(f"{multi.base}/metrics", timeout=10).text
        time.sleep(0.5)
    for _ in range(20):  # a new connection each time, so the kernel may hand it to either worker
        assert httpx.get(f"{multi.base}/api/v1/health", timeout=10).status_code == 200
    body = httpx.get(f"{multi.base}/metrics", timeout=10).text
    line = next(
        line
        for line in body.splitlines()
        if line.startswith('tenancy_http_requests_total{method="GET",route="/api/v1/health",status="200"}')
    )
    assert float(line.split()[-1]) == 20.0
