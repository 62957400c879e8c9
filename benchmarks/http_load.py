"""Requests per second and latency percentiles of the main endpoints, against a real server.

    uv run python benchmarks/http_load.py [--duration 10] [--connections 16] [--members 200]

Starts `tenancy serve` on a free port with a throwaway data directory (embedded PostgreSQL;
per-address login throttling off), creates an organization with `--members` members through the
API, then loads each endpoint for `--duration` seconds. It uses `wrk` when it is installed
(`apt-get install wrk`; the numbers are then the server's, not the client's) and otherwise a
built-in asyncio client (httpx; on a 2-core machine the client itself then takes a core, so treat
its requests/second as a floor). Set BENCH_BASE_URL to load an already running server instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx

PASSWORD = "benchmark password that is long enough"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server() -> Iterator[str]:
    if url := os.environ.get("BENCH_BASE_URL"):
        yield url.rstrip("/")
        return
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="tenancy-http-bench-") as data_dir:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
        env.update(TENANCY_DATA_DIR=data_dir, LOGIN_IP_RATE_PER_MINUTE="0", LOGIN_MAX_FAILURES="1000000")
        tenancy = Path(sys.executable).parent / "tenancy"
        proc = subprocess.Popen(
            [str(tenancy), "serve", "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise SystemExit(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                        break
                time.sleep(0.3)
            yield base
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


def setup(base: str, members: int) -> dict[str, str]:
    """An owner with an organization of `members` members; returns the paths to load and a token."""
    with httpx.Client(base_url=f"{base}/api/v1", timeout=60) as api:
        stamp = int(time.time() * 1000)
        owner = {
            "email": f"owner-{stamp}@bench.example",
            "password": PASSWORD,
            "display_name": "Owner",
            "organization_name": "Benchmark Inc",
        }
        reg = api.post("/auth/register", json=owner)
        reg.raise_for_status()
        org_id = reg.json()["organization"]["id"]
        tokens = api.post(
            "/auth/token", json={"email": owner["email"], "password": PASSWORD, "organization_id": org_id}
        )
        tokens.raise_for_status()
        auth = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        for i in range(members):
            email = f"member-{stamp}-{i}@bench.example"
            api.post(
                "/auth/register", json={"email": email, "password": PASSWORD, "display_name": f"M{i}"}
            ).raise_for_status()
            api.post(f"/organizations/{org_id}/members", json={"email": email}, headers=auth).raise_for_status()
        as_of = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return {
            "token": tokens.json()["access_token"],
            "GET /health": "/health",
            "GET /auth/me": "/api/v1/auth/me",
            "GET /organizations": "/api/v1/organizations",
            "GET /organizations/{id}": f"/api/v1/organizations/{org_id}",
            "GET …/members": f"/api/v1/organizations/{org_id}/members",
            "GET …/members?as_of": f"/api/v1/organizations/{org_id}/members?as_of={as_of}",
            "GET …/owner": f"/api/v1/organizations/{org_id}/owner",
        }


def run_wrk(url: str, token: str, duration: int, connections: int) -> tuple[float, dict[str, float]]:
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    pct = {}
    for label in ("50", "90", "99"):
        m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        if m:
            value, unit = float(m.group(1)), m.group(2)
            pct[f"p{label}"] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  warning: {errors.group(1)} non-2xx responses for {url}", file=sys.stderr)
    return rps, pct


async def run_python(url: str, token: str, duration: int, connections: int) -> tuple[float, dict[str, float]]:
    samples: list[float] = []
    failures = 0
    stop = time.monotonic() + duration
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal failures
            while time.monotonic() < stop:
                start = time.perf_counter()
                response = await client.get(url)
                samples.append((time.perf_counter() - start) * 1000)
                failures += response.status_code >= 400

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.monotonic() - began
    if failures:
        print(f"  warning: {failures} error responses for {url}", file=sys.stderr)
    samples.sort()
    pick = lambda q: samples[min(len(samples) - 1, int(len(samples) * q))]  # noqa: E731
    return len(samples) / elapsed, {"p50": statistics.median(samples), "p90": pick(0.90), "p99": pick(0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--members", type=int, default=200)
    args = parser.parse_args()
    use_wrk = shutil.which("wrk") is not None
    with running_server() as base:
        print(f"server {base}; setting up {args.members} members ...", file=sys.stderr)
        targets = setup(base, args.members)
        token = targets.pop("token")
        print(
            f"\nload: {'wrk' if use_wrk else 'built-in asyncio client'}, {args.connections} connections, "
            f"{args.duration}s per endpoint\n"
        )
        print("| endpoint | req/s | p50 ms | p90 ms | p99 ms |")
        print("|---|---|---|---|---|")
        for label, path in targets.items():
            url = base + path
            if use_wrk:
                rps, pct = run_wrk(url, token, args.duration, args.connections)
            else:
                rps, pct = asyncio.run(run_python(url, token, args.duration, args.connections))
            print(
                f"| {label} | {rps:,.0f} | {pct.get('p50', 0):.2f} | {pct.get('p90', 0):.2f} | {pct.get('p99', 0):.2f} |"
            )


if __name__ == "__main__":
    main()
