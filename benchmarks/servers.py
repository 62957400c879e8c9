"""The service and the reference app as uvicorn processes on 127.0.0.1, and the CPU they use."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen[bytes]

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process and its workers so far."""
        try:
            parent = psutil.Process(self.process.pid)
            processes = [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0.0
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
        return total


def service_command(port: int, workers: int) -> list[str]:
    """The service as `tenancy serve` runs it (uvicorn, uvloop + httptools, no access log, no proxy
    headers, no server header), with N workers. Not `tenancy serve` itself: it has no `--workers`
    yet, and its header-limit protocol class cannot be handed to spawned workers."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
        "--no-proxy-headers",
        "--no-server-header",
    ]


def reference_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "benchmarks.reference:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


@contextlib.contextmanager
def running(name: str, command_for: object, env: dict[str, str], *args: int) -> Iterator[Server]:
    port = free_port()
    command = command_for(port, *args)  # type: ignore[operator]
    # stderr into a file, not a pipe: the service logs one line per request there, and a pipe
    # nobody reads fills after ~64 KiB and then blocks the server mid-run (0 req/s).
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=log)
        server = Server(name, f"http://127.0.0.1:{port}", process)
        try:
            _wait_until_ready(server, log)
            yield server
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_ready(server: Server, log: IO[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        if server.process.poll() is not None:
            log.seek(0)
            err = log.read().decode(errors="replace")
            raise SystemExit(f"{server.name} exited at start-up:\n{err[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.base}/health", timeout=1).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"{server.name} did not answer /health within 60 s")
        time.sleep(0.2)


def log_in(base: str, email: str, password: str, organization_id: str | None = None) -> str:
    body: dict[str, str] = {"email": email, "password": password}
    if organization_id:
        body["organization_id"] = organization_id
    response = httpx.post(f"{base}/api/v1/auth/token", json=body, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])
