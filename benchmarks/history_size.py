"""How current-state reads behave as history grows (SPEC §8: point lookups stay flat).

    uv run python benchmarks/history_size.py [--sizes 1000,100000,1000000] [--iterations 2000]

For each size it builds, in a fresh database, one organization whose `organization_members`,
`organization_admins` history has that many rows (many users, many added/removed events each), plus
the facts a caller needs, then times the reads the API makes on every org-scoped request:

- auth + org guard: `load_principal(..., organization_id=...)` — session, user status and the
  caller's standing in the organization in one query;
- a members page (50, current), through the loose-index-scan page query;
- a members page as of an instant halfway through the history;
- a point lookup "is U a member now?".

It runs on an embedded PostgreSQL in a temporary directory unless BENCH_DATABASE_URL names a
server (whose maintenance database it uses to create and drop its own databases).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import make_engine
from app.core.migrations import upgrade
from app.models import OrganizationMember
from app.repositories.facts import latest_kind, latest_per_key_page
from app.repositories.sessions import load_principal

T0 = datetime(2025, 1, 1, tzinfo=UTC)


@contextlib.contextmanager
def server() -> Iterator[str]:
    if url := os.environ.get("BENCH_DATABASE_URL"):
        yield url
        return
    from app.core.embedded import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="tenancy-bench-") as tmp:
        with embedded_postgres(Path(tmp), database="postgres", delete=True) as url:
            yield url


async def admin(url: str, sql: str) -> None:
    u = make_url(url)
    conn = await asyncpg.connect(
        user=u.username, password=u.password, database=u.database, host=u.query.get("host") or u.host, port=u.port
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


SEED = """
INSERT INTO users (id, created_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, :t0
FROM generate_series(1, :users) g;
INSERT INTO organizations (id, created_at, created_by) VALUES (:org, :t0, :caller);
INSERT INTO organization_profile (organization_id, name, occurred_at) VALUES (:org, 'Big', :t0);
INSERT INTO organization_owners (organization_id, user_id, occurred_at) VALUES (:org, :caller, :t0);
-- every user: `per_user` membership events alternating added/removed, ending with 'added' for
-- two users in three (a page of 50 walks ~75 users at every size); a grant/revoke history a tenth
-- as long
INSERT INTO organization_members (organization_id, user_id, kind, occurred_at)
SELECT :org, ('00000000-0000-4000-8000-' || lpad(to_hex(u), 12, '0'))::uuid,
       CASE WHEN (e + CASE WHEN u % 3 = 0 THEN 1 ELSE 0 END) % 2 = 0 THEN 'added' ELSE 'removed' END,
       CAST(:t0 AS timestamptz) + make_interval(secs => e * 60 + u % 60)
FROM generate_series(1, :per_user) e, generate_series(1, :users) u
ORDER BY e, u;
INSERT INTO organization_admins (organization_id, user_id, kind, occurred_at)
SELECT :org, ('00000000-0000-4000-8000-' || lpad(to_hex(u), 12, '0'))::uuid,
       CASE WHEN e % 2 = 1 THEN 'granted' ELSE 'revoked' END,
       CAST(:t0 AS timestamptz) + make_interval(secs => e * 600 + u % 60)
FROM generate_series(1, greatest(1, :per_user / 10)) e, generate_series(1, :users) u;
INSERT INTO sessions (id, user_id, created_at) VALUES (:session, :caller, :t0);
INSERT INTO session_rotations (session_id, token_hash, occurred_at) VALUES (:session, md5(random()::text), :t0);
"""


async def seed(url: str, rows: int) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID, datetime]:
    per_user = 50 if rows >= 100_000 else 10
    users = max(1, rows // per_user)
    org, session = uuid.uuid4(), uuid.uuid4()
    caller = uuid.UUID(f"00000000-0000-4000-8000-{1:012x}")
    engine = make_engine(url, pool_size=1)
    async with engine.begin() as conn:
        for statement in filter(str.strip, SEED.split(";\n")):
            await conn.execute(
                text(statement),
                {"org": org, "caller": caller, "session": session, "users": users, "per_user": per_user, "t0": T0},
            )
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
    await engine.dispose()
    halfway = T0 + timedelta(seconds=per_user * 30)
    return org, caller, session, halfway


async def timed(label: str, iterations: int, call: Callable[[], Awaitable[object]]) -> dict[str, float]:
    for _ in range(min(200, iterations)):  # warm the statement cache and the buffers
        await call()
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p95": samples[int(len(samples) * 0.95) - 1],
        "p99": samples[int(len(samples) * 0.99) - 1],
    }


async def measure(url: str, rows: int, iterations: int) -> dict[str, dict[str, float]]:
    org, caller, session, halfway = await seed(url, rows)
    engine = make_engine(url, pool_size=1)
    results: dict[str, dict[str, float]] = {}
    async with AsyncSession(engine) as db:
        probe = uuid.UUID(f"00000000-0000-4000-8000-{7:012x}")
        results["auth + org guard (1 query)"] = await timed(
            "guard", iterations, lambda: load_principal(db, session_id=session, user_id=caller, organization_id=org)
        )
        results["members page (50)"] = await timed(
            "page",
            iterations,
            lambda: latest_per_key_page(db, OrganizationMember, {"organization_id": org}, "user_id", state="added"),
        )
        results["members page as of T"] = await timed(
            "page as of",
            iterations,
            lambda: latest_per_key_page(
                db, OrganizationMember, {"organization_id": org}, "user_id", state="added", as_of=halfway
            ),
        )
        # the shape every API read uses: only included columns, so the probe stays index-only
        point = select(latest_kind(OrganizationMember, {"organization_id": org, "user_id": probe}))
        results["is U a member now"] = await timed("point", iterations, lambda: db.execute(point))
        await db.rollback()
    await engine.dispose()
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with server() as base_url:
        table: dict[int, dict[str, dict[str, float]]] = {}
        for rows in sizes:
            name = f"bench_history_{rows}"
            await admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin(base_url, f'CREATE DATABASE "{name}"')
            url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
            await asyncio.to_thread(upgrade, url)
            print(f"seeding ~{rows:,} membership events ...", file=sys.stderr)
            table[rows] = await measure(url, rows, args.iterations)
            await admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    reads = list(next(iter(table.values())))
    print(f"\nlatency in ms (p50 / p95 / p99), {args.iterations} sequential calls each\n")
    print("| read | " + " | ".join(f"{rows:,} events" for rows in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for read in reads:
        cells = [
            f"{table[r][read]['p50']:.2f} / {table[r][read]['p95']:.2f} / {table[r][read]['p99']:.2f}" for r in sizes
        ]
        print(f"| {read} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    asyncio.run(main())
