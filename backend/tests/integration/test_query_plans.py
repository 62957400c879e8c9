"""Every statement the read endpoints send — current state and as of an instant, user and API-key
callers — is planned as index scans, with no sequential scan of a fact table (issue 13).

The statements are captured as the app sends them (same SQL, same parameters, the hot reads run on
the driver connection included) on a database where every fact table they read holds thousands of
rows and has been analyzed, so a sequential scan would be chosen if the statement left room for one.
Deterministic: plans, never timings.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from factories import bearer, create_user, issue_token
from org_factories import API, committed_app, committed_session, join, make_org
from sqlalchemy import event, text

from app.core.clock import FrozenClock
from app.models import Base

pytestmark = [pytest.mark.integration, pytest.mark.concurrency]

FACT_TABLES = {t.name for t in Base.metadata.sorted_tables if "occurred_at" in t.columns}

_U = "('c0000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid"
_O = "('d0000000-0000-4000-8000-' || lpad(to_hex(n % 2000), 12, '0'))::uuid"
_S = "('e0000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid"
_K = "('f0000000-0000-4000-8000-' || lpad(to_hex(n % 2000), 12, '0'))::uuid"
_EACH_USER = "FROM generate_series(1, 20000) n"
_EACH_ORG = "FROM generate_series(1, 2000) n"

# 20,000 users and 2,000 organizations with a fact of every kind the reads compose (all of them
# neutral: every user and organization stays active), three membership events per user, sessions,
# invitations and API keys. ~250,000 rows, inserted set-wise.
SEED = [
    f"INSERT INTO users (id) SELECT {_U} {_EACH_USER}",
    f"INSERT INTO user_profile (user_id, display_name) SELECT {_U}, 'user ' || n {_EACH_USER}",
    f"INSERT INTO user_login_password (user_id, email, password_hash) SELECT {_U}, 'p' || n || '@plans.example', 'x' "
    f"{_EACH_USER}",
    f"INSERT INTO user_email_verifications (user_id, email) SELECT {_U}, 'p' || n || '@plans.example' {_EACH_USER}",
    f"INSERT INTO user_active_status (user_id, kind) SELECT {_U}, 'activated' {_EACH_USER}",
    f"INSERT INTO user_suspensions (user_id, kind) SELECT {_U}, 'lifted' {_EACH_USER}",
    f"INSERT INTO user_archives (user_id, kind) SELECT {_U}, 'restored' {_EACH_USER}",
    f"INSERT INTO platform_admin_grants (user_id, kind) SELECT {_U}, 'revoked' {_EACH_USER}",
    f"INSERT INTO organizations (id, created_by) SELECT {_O}, {_U} {_EACH_ORG}",
    f"INSERT INTO organization_profile (organization_id, name) SELECT {_O}, 'org ' || n {_EACH_ORG}",
    f"INSERT INTO organization_active_status (organization_id, kind) SELECT {_O}, 'activated' {_EACH_ORG}",
    f"INSERT INTO organization_suspensions (organization_id, kind) SELECT {_O}, 'lifted' {_EACH_ORG}",
    f"INSERT INTO organization_archives (organization_id, kind) SELECT {_O}, 'restored' {_EACH_ORG}",
    f"INSERT INTO organization_owners (organization_id, user_id) SELECT {_O}, {_U} {_EACH_ORG}",
    f"INSERT INTO organization_members (organization_id, user_id, kind, occurred_at) "
    f"SELECT {_O}, {_U}, k, timestamptz '2025-01-01' + g * interval '1 day' "
    f"{_EACH_USER}, unnest(ARRAY['added', 'removed', 'added']) WITH ORDINALITY AS e(k, g) ORDER BY g, n",
    f"INSERT INTO organization_admins (organization_id, user_id, kind) SELECT {_O}, {_U}, 'granted' {_EACH_USER} "
    "WHERE n % 10 = 0",
    f"INSERT INTO sessions (id, user_id) SELECT {_S}, {_U} {_EACH_USER}",
    f"INSERT INTO session_rotations (session_id, token_hash) SELECT {_S}, md5(n::text) {_EACH_USER}",
    f"INSERT INTO session_revocations (session_id, reason) SELECT {_S}, 'logout' {_EACH_USER} WHERE n % 2 = 0",
    f"INSERT INTO invitations (invitation_id, organization_id, email, role, expires_at) "
    f"SELECT {_S}, {_O}, 'p' || n || '@plans.example', 'member', now() + interval '7 days' {_EACH_USER}",
    f"INSERT INTO invitation_responses (invitation_id, organization_id, kind) SELECT {_S}, {_O}, 'declined' "
    f"{_EACH_USER} WHERE n % 2 = 0",
    f"INSERT INTO api_keys (id, organization_id, name, prefix, secret_hash, permissions, created_by, created_at) "
    f"SELECT {_K}, {_O}, 'key ' || n, lpad(to_hex(n + 1000000), 12, '0'), md5(n::text) || md5(n::text), "
    f"ARRAY['members:read']::varchar[], {_U}, now() {_EACH_ORG}",
    f"INSERT INTO api_key_revocations (api_key_id) SELECT {_K} {_EACH_ORG} WHERE n % 2 = 0",
    f"INSERT INTO api_key_uses (api_key_id, minute) SELECT {_K}, date_trunc('minute', now()) - n * interval '1 minute' "
    f"{_EACH_ORG}",
]


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


async def test_every_read_statement_is_index_scans(committed_db_url: str, clock: FrozenClock) -> None:
    async with committed_app(committed_db_url, clock) as (app, engine, client):
        async with committed_session(app) as db:
            for statement in SEED:
                await db.execute(text(statement))
            owner = await create_user(db, now=clock.now())
            member = await create_user(db, now=clock.now())
            org = await make_org(db, owner, clock.now())
            await join(db, org, member, clock.now())
            headers = bearer(await issue_token(db, app.state.settings, user_id=member, now=clock.now()))
            owner_headers = bearer(await issue_token(db, app.state.settings, user_id=owner, now=clock.now()))
        async with engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM ANALYZE"))
        created = await client.post(
            f"{API}/{org}/api-keys", json={"name": "reader", "permissions": ["members:read"]}, headers=owner_headers
        )
        key = {"X-API-Key": created.json()["key"]}

        instant = clock.now().isoformat().replace("+", "%2B")
        reads = [
            ("/api/v1/auth/me", headers),
            ("/api/v1/auth/sessions", headers),
            ("/api/v1/organizations", headers),
            (f"/api/v1/users/{owner}", headers),
            ("/api/v1/invitations", headers),
            (f"{API}/{org}", headers),
            (f"{API}/{org}/permissions", headers),
            (f"{API}/{org}/members?limit=20", headers),
            (f"{API}/{org}/admins", headers),
            (f"{API}/{org}/owner", headers),
            (f"{API}/{org}/members?as_of={instant}", owner_headers),
            (f"{API}/{org}/admins?as_of={instant}", owner_headers),
            (f"{API}/{org}/owner?as_of={instant}", owner_headers),
            (f"{API}/{org}/events", owner_headers),
            (f"{API}/{org}/invitations", owner_headers),
            (f"{API}/{org}/api-keys", owner_headers),
            (f"{API}/{org}/members?limit=20", key),
        ]
        seen: list[tuple[str, str, Any]] = []
        current: list[str] = [""]

        def record(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, executemany: bool) -> None:
            if sql.lstrip().upper().startswith(("SELECT", "WITH")):
                seen.append((current[0], sql, parameters))

        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            for url, h in reads:
                current[0] = url
                response = await client.get(url, headers=h)
                assert response.status_code == 200, (url, response.text)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)

        assert {url for url, _, _ in seen} == {url for url, _ in reads}
        async with engine.connect() as conn:
            for url, sql, parameters in seen:
                # EXPLAIN without ANALYZE plans and never runs (the API key guard's use-recording CTE too)
                result = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", parameters)
                document = result.scalar_one()
                plan = json.loads(document) if isinstance(document, str) else document
                nodes = _nodes(plan[0]["Plan"])
                seq = sorted({n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"} & FACT_TABLES)
                assert not seq, (url, seq, sql)
                scans = [n for n in nodes if "Index Name" in n]
                relations = [n for n in nodes if "Relation Name" in n]
                assert scans or not relations, (url, sql)
            await conn.rollback()
