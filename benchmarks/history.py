"""Does history size change what reads cost? The same reads at 10³ and 10⁶ membership events.

Each size gets its own database (one organization, its whole history in `organization_members`,
see `seed.seed_history`) and its own service process; both run at once and are measured in
alternating short rounds, so a burst of load from elsewhere on the machine hits both sizes alike.
Each read is loaded by ONE connection, one request after another (`wrk -c1`), so the latency is
the request's own, not queueing; the database CPU per request (from its backends) is the part
history could change.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
from dataclasses import dataclass

import asyncpg

from benchmarks import database, load, seed, servers


@dataclass
class Reading:
    p50_ms: float
    mean_ms: float
    db_us: float | None


READS = {
    "point lookups (GET /organizations/{id})": "/api/v1/organizations/{org}",
    "members page (20)": "/api/v1/organizations/{org}/members?limit=20",
}


async def _prepare(server_url: str, name: str, rows: int, password_hash: str) -> tuple[str, str]:
    url = await database.recreate_database(server_url, name)
    await asyncio.to_thread(database.migrate, url)
    conn = await asyncpg.connect(**database.dsn(url))  # type: ignore[arg-type]
    try:
        org = await seed.seed_history(conn, rows, password_hash)
    finally:
        await conn.close()
    return url, str(org)


def measure(
    server_url: str, sizes: list[int], *, password_hash: str, env: dict[str, str], seconds: float
) -> dict[int, dict[str, Reading]]:
    """`seconds` of load per read and size, in rounds of one second alternating between sizes."""
    names = {rows: f"tenancy_bench_history_{rows}" for rows in sizes}
    prepared = {rows: asyncio.run(_prepare(server_url, names[rows], rows, password_hash)) for rows in sizes}
    samples: dict[int, dict[str, list[tuple[load.Result, float]]]] = {r: {read: [] for read in READS} for r in sizes}
    try:
        with contextlib.ExitStack() as stack:
            services = {
                rows: stack.enter_context(
                    servers.running(
                        f"service ({rows:,} events)", servers.service_command, {**env, "DATABASE_URL": url}, 1
                    )
                )
                for rows, (url, _) in prepared.items()
            }
            targets = {}
            for rows, svc in services.items():
                token = servers.log_in(svc.base, seed.CALLER_EMAIL, seed.PASSWORD)
                headers = {"Authorization": f"Bearer {token}"}
                for read, path in READS.items():
                    url = svc.base + path.format(org=prepared[rows][1])
                    load.run(url, seconds=1, connections=1, headers=headers)  # warm
                    targets[rows, read] = (url, headers)
            for _ in range(max(1, round(seconds))):
                for read in READS:
                    for rows in sizes:
                        url, headers = targets[rows, read]
                        samples[rows][read].append(asyncio.run(_timed(prepared[rows][0], url, headers)))
    finally:
        for name in names.values():
            asyncio.run(database.drop_database(server_url, name))
    out: dict[int, dict[str, Reading]] = {}
    for rows, reads in samples.items():
        out[rows] = {}
        for read, runs in reads.items():
            requests = sum(r.requests for r, _ in runs)
            db = sum(cpu for _, cpu in runs)
            out[rows][read] = Reading(
                p50_ms=statistics.median(r.p50_ms for r, _ in runs),
                mean_ms=sum(r.seconds for r, _ in runs) * 1000 / requests,
                db_us=db * 1e6 / requests if db else None,
            )
    return out


async def _timed(db_url: str, target: str, headers: dict[str, str]) -> tuple[load.Result, float]:
    monitor = await database.Monitor.open(db_url)
    try:
        before = await monitor.snapshot(settle=0.0)
        result = await asyncio.to_thread(load.run, target, seconds=1, connections=1, headers=headers)
        after = await monitor.snapshot(settle=0.0)
    finally:
        await monitor.close()
    if result.errors:
        raise SystemExit(f"{result.errors} failed requests to {target}")
    return result, database.db_cpu_seconds(before, after)
