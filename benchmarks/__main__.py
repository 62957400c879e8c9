"""`uv run python -m benchmarks [--quick]`: the service against a minimal reference app, in one run.

Starts PostgreSQL (embedded in a temporary directory, or the server in DATABASE_URL, where it
creates and drops databases named tenancy_bench*), seeds organizations of 10 to 10,000 members
with churned history, then runs on 127.0.0.1:

1. the reference app (FastAPI + PyJWT + two raw asyncpg point queries, one worker);
2. the service (uvicorn, as `tenancy serve`) with one worker, then two: /health, /auth/me,
   GET /organizations/{id}, a 20-member page of the 10,000-member organization; then logins
   against the argon2 limit (cores ÷ one verify, measured here), with /health's p99 meanwhile;
3. the history-size ratios (10³ vs 10⁶ membership events).

Prints one table per part and writes benchmarks/results/latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks import database, history, load, report, seed, servers


def argon2_verify_seconds() -> tuple[float, dict[str, int]]:
    """One argon2id verification with the service's configured parameters (median of 9)."""
    from argon2 import PasswordHasher, Type

    from app.core.config import Settings

    settings = Settings()
    params = {
        "memory_kib": settings.argon2_memory_kib,
        "time_cost": settings.argon2_time_cost,
        "parallelism": settings.argon2_parallelism,
    }
    hasher = PasswordHasher(
        time_cost=params["time_cost"], memory_cost=params["memory_kib"], parallelism=params["parallelism"], type=Type.ID
    )
    stored = hasher.hash(seed.PASSWORD)
    samples = []
    for _ in range(9):
        start = time.perf_counter()
        hasher.verify(stored, seed.PASSWORD)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), params


def argon2_throughput(seconds: float) -> float:
    """Verifications per second with one thread per core, right now: the ceiling logins can reach on
    this machine in this minute (other load on a shared machine lowers it, for both alike)."""
    from concurrent.futures import ThreadPoolExecutor

    from argon2 import PasswordHasher, Type

    from app.core.config import Settings

    settings = Settings()
    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )
    stored = hasher.hash(seed.PASSWORD)
    cores = len(os.sched_getaffinity(0))
    stop = time.monotonic() + seconds

    def worker() -> int:
        done = 0
        while time.monotonic() < stop:
            hasher.verify(stored, seed.PASSWORD)
            done += 1
        return done

    started = time.monotonic()
    with ThreadPoolExecutor(cores) as pool:
        total = sum(pool.map(lambda _: worker(), range(cores)))
    return total / (time.monotonic() - started)


def password_hash() -> str:
    from app.core.config import Settings
    from app.core.security import passwords

    return passwords(Settings())._hasher.hash(seed.PASSWORD)


async def prepare_main(server_url: str) -> tuple[str, seed.Seeded]:
    url = await database.recreate_database(server_url, "tenancy_bench")
    await asyncio.to_thread(database.migrate, url)
    conn = await asyncpg.connect(**database.dsn(url))  # type: ignore[arg-type]
    try:
        started = time.monotonic()
        seeded = await seed.seed(conn, password_hash())
        print(
            f"seeded {seeded.users:,} users, {seeded.organizations} organizations, "
            f"{seeded.member_events:,} membership events in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
    finally:
        await conn.close()
    return url, seeded


def measured(
    url: str, server: servers.Server, run: Callable[[], load.Result], *, warm: Callable[[], object] | None = None
) -> dict[str, Any]:
    """Run `run` between two snapshots: requests, latency, the server's and the database's CPU
    per request, and connections the database saw opened meanwhile."""

    if warm is not None:
        warm()

    async def around() -> tuple[load.Result, float, database.DbSnapshot, database.DbSnapshot]:
        monitor = await database.Monitor.open(url)
        try:
            before = await monitor.snapshot()
            cpu_before = server.cpu_seconds()
            result = await asyncio.to_thread(run)
            cpu = server.cpu_seconds() - cpu_before
            return result, cpu, before, await monitor.snapshot()
        finally:
            await monitor.close()

    result, cpu, before, after = asyncio.run(around())
    db_cpu = database.db_cpu_seconds(before, after)
    return {
        **asdict(result),
        "app_cpu_us": cpu * 1e6 / result.requests if result.requests else None,
        "db_cpu_us": db_cpu * 1e6 / result.requests if result.requests and db_cpu else None,
        "new_connections": database.new_connections(before, after),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (about two minutes in all)")
    parser.add_argument("--seconds", type=float, help="per endpoint (default 10, quick 4)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--workers", default="1,2", help="service worker counts to run (default 1,2)")
    parser.add_argument("--history", default="1000,1000000", help="history sizes in events ('' to skip)")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "latest.json")
    args = parser.parse_args()
    seconds = args.seconds or (4.0 if args.quick else 10.0)
    worker_counts = [int(w) for w in args.workers.split(",") if w]
    sizes = [int(s) for s in args.history.split(",") if s]
    conns = args.connections

    verify_s, argon2_params = argon2_verify_seconds()
    cores = len(os.sched_getaffinity(0))
    results: dict[str, Any] = {
        "machine": report.machine(),
        "load_generator": "wrk" if load.have_wrk() else "python (httpx; a floor, it shares the cores)",
        "seconds_per_run": seconds,
        "connections": conns,
        "argon2": {**argon2_params, "verify_ms": verify_s * 1000, "cores": cores, "limit_per_s": cores / verify_s},
        "endpoints": [],
        "logins": [],
        "history": {},
    }
    started = time.monotonic()
    with database.postgres_server() as server_url, tempfile.TemporaryDirectory(prefix="tenancy-bench-") as tmp:
        url, seeded = asyncio.run(prepare_main(server_url))
        results["data"] = asdict(seeded) | {"caller_orgs": [str(o) for o in seeded.caller_orgs]}
        results["machine"]["postgresql"] = asyncio.run(_server_version(url))
        key = secrets.token_urlsafe(48)
        env = {
            "DATABASE_URL": url,
            "REFERENCE_DATABASE_URL": url,
            "JWT_SECRET_KEY": key,
            "ENVIRONMENT": "development",
            "TENANCY_DATA_DIR": tmp,
            "LOGIN_IP_RATE_PER_MINUTE": "0",
            "LOGIN_MAX_FAILURES": "1000000",
        }
        org = str(seeded.caller_orgs[0])
        warm_s = 1.0 if args.quick else 2.0

        reference = contextlib.ExitStack()
        ref = reference.enter_context(servers.running("reference", servers.reference_command, env))
        with reference:
            with servers.running("service", servers.service_command, env, 1) as svc:
                token = servers.log_in(svc.base, seed.CALLER_EMAIL, seed.PASSWORD, org)
            auth = {"Authorization": f"Bearer {token}"}
            ref_target = f"{ref.base}/reference/{org}"

            def run_reference(warm: float = 0.0) -> dict[str, Any]:
                return measured(
                    url,
                    ref,
                    lambda: load.run(ref_target, seconds=seconds, connections=conns, headers=auth),
                    warm=(lambda: load.run(ref_target, seconds=warm, connections=conns, headers=auth))
                    if warm
                    else None,
                )

            results["endpoints"].append({"endpoint": report.REFERENCE, "workers": 1, **run_reference(warm_s)})
            report.progress(results["endpoints"][-1])

            paths = {
                "GET /health": "/health",
                "GET /auth/me": "/api/v1/auth/me",
                "GET /organizations/{id}": f"/api/v1/organizations/{org}",
                "GET …/members?limit=20": f"/api/v1/organizations/{org}/members?limit=20",
            }
            if not args.quick:
                paths["GET /organizations"] = "/api/v1/organizations"
                paths["GET …/members?limit=20&as_of"] = (
                    f"/api/v1/organizations/{org}/members?limit=20&as_of=2025-03-01T00:00:00Z"
                )
            for workers in worker_counts:
                with servers.running(f"service ×{workers}", servers.service_command, env, workers) as svc:
                    for label, path in paths.items():
                        target = svc.base + path
                        adjacent = None
                        if label in report.RATIO_TARGETS:
                            # the reference again, just before: the machine's load moves between minutes
                            adjacent = run_reference()["rps"]
                        row = measured(
                            url,
                            svc,
                            lambda target=target: load.run(target, seconds=seconds, connections=conns, headers=auth),
                            warm=lambda target=target: load.run(
                                target, seconds=warm_s, connections=conns, headers=auth
                            ),
                        )
                        results["endpoints"].append(
                            {"endpoint": label, "workers": workers, **row, "reference_rps": adjacent}
                        )
                        report.progress(results["endpoints"][-1])
                    results["logins"].append(logins(url, svc, workers, seconds=max(seconds, 6.0)))
                    report.progress_login(results["logins"][-1])

        if sizes:
            print(f"history: seeding {', '.join(f'{r:,}' for r in sizes)} membership events ...", file=sys.stderr)
            readings = history.measure(
                server_url, sizes, password_hash=password_hash(), env=env, seconds=max(3.0, seconds)
            )
            results["history"] = {str(rows): {k: asdict(v) for k, v in r.items()} for rows, r in readings.items()}
        asyncio.run(database.drop_database(server_url, "tenancy_bench"))

    results["elapsed_s"] = time.monotonic() - started
    results["targets"] = report.targets(results)
    print(report.render(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report.to_json(results))
    print(f"\nwritten to {args.output}", file=sys.stderr)


def logins(url: str, svc: servers.Server, workers: int, *, seconds: float) -> dict[str, Any]:
    """Logins as fast as the service takes them (8 connections), /health probed at 20/s meanwhile."""
    body = {"email": seed.CALLER_EMAIL, "password": seed.PASSWORD}
    target = f"{svc.base}/api/v1/auth/token"
    probe = load.Probe(f"{svc.base}/health")

    def run() -> load.Result:
        with probe:
            return load.run(target, seconds=seconds, connections=8, post_json=body)

    row = measured(url, svc, run, warm=lambda: load.run(target, seconds=1, connections=8, post_json=body))
    ceiling = argon2_throughput(min(seconds, 5.0))  # the same minute, the same machine
    return {
        "workers": workers,
        **row,
        "health_p99_ms": probe.p99(),
        "health_errors": probe.errors,
        "argon2_verifies_per_s_now": ceiling,
    }


async def _server_version(url: str) -> str:
    conn = await asyncpg.connect(**database.dsn(url))  # type: ignore[arg-type]
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
