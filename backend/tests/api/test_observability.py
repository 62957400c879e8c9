"""Request ids, one structured log line per request, `/metrics` and `/ready` (SPEC §12)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator

import httpx
import pytest

from app.core.database import make_engine, make_sessionmaker
from app.main import create_app
from tests.conftest import make_settings
from tests.factories import DEFAULT_PASSWORD, create_user, issue_token

API = "/api/v1"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def request_lines() -> Iterator[list[str]]:
    handler = Lines()
    logger = logging.getLogger("tenancy.request")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


async def test_a_request_id_is_generated_or_accepted_and_returned(client: httpx.AsyncClient) -> None:
    generated = await client.get("/health")
    assert len(generated.headers["x-request-id"]) == 32
    assert (await client.get("/health")).headers["x-request-id"] != generated.headers["x-request-id"]

    given = "req-2026.01.01:abc/42"
    assert (await client.get("/health", headers={"X-Request-ID": given})).headers["x-request-id"] == given
    for bad in ("x" * 129, "has space", "semi;colon", "<script>"):
        echoed = (await client.get("/health", headers={"X-Request-ID": bad})).headers["x-request-id"]
        assert echoed != bad
        assert len(echoed) == 32
    missing = await client.get(f"{API}/no-such-route")
    assert missing.status_code == 404
    assert missing.headers["x-request-id"]


async def test_one_json_line_per_request_with_route_caller_and_organization(
    settings, engine, db, clock, request_lines
) -> None:
    app = create_app(settings.model_copy(update={"log_format": "json"}), clock=clock)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    from app.core.database import get_db

    async def test_db():
        async with db.begin_nested():
            yield db

    app.dependency_overrides[get_db] = test_db
    user_id = await create_user(db, now=clock.now(), email="logged@example.com")
    token = await issue_token(db, settings, user_id=user_id, now=clock.now())
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        auth = {"Authorization": f"Bearer {token}", "X-Request-ID": "trace-1"}
        created = await http.post(f"{API}/organizations", json={"name": "Logged Org"}, headers=auth)
        assert created.status_code == 201, created.text
        org_id = created.json()["id"]
        assert (await http.get(f"{API}/organizations/{org_id}/members", headers=auth)).status_code == 200
        login = await http.post(f"{API}/auth/token", json={"email": "logged@example.com", "password": DEFAULT_PASSWORD})
        assert login.status_code == 200

    assert len(request_lines) == 3
    create, members, token_line = (json.loads(line) for line in request_lines)
    assert create == {
        "event": "request",
        "method": "POST",
        "route": "/api/v1/organizations",
        "status": 201,
        "duration_ms": create["duration_ms"],
        "request_id": "trace-1",
        "user_id": str(user_id),
        "api_key_id": None,
        "organization_id": None,
    }
    assert create["duration_ms"] >= 0
    assert members["route"] == "/api/v1/organizations/{org_id}/members"
    assert members["organization_id"] == org_id
    assert members["user_id"] == str(user_id)
    assert token_line["route"] == "/api/v1/auth/token"
    assert token_line["status"] == 200
    everything = "\n".join(request_lines)
    for secret in (token, DEFAULT_PASSWORD, "logged@example.com", login.json()["access_token"]):
        assert secret not in everything


async def test_text_lines_are_one_line_each(client: httpx.AsyncClient, request_lines) -> None:
    await client.get("/health", headers={"X-Request-ID": "t-1"})
    await client.get(f"{API}/no-such-route")
    assert len(request_lines) == 2
    assert request_lines[0].startswith("GET /health 200 ")
    assert "request_id=t-1" in request_lines[0]
    assert request_lines[1].startswith("GET <unmatched> 404 ")
    assert all("\n" not in line for line in request_lines)


async def test_metrics_count_requests_by_route_template_and_logins_by_outcome(client: httpx.AsyncClient) -> None:
    org = uuid.uuid4()
    await client.get(f"{API}/organizations/{org}")  # 401: no token
    await client.post(f"{API}/auth/token", json={"email": "nobody@example.com", "password": "wrong password 1"})
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    assert 'tenancy_http_requests_total{method="GET",route="/api/v1/organizations/{org_id}",status="401"}' in body
    assert str(org) not in body  # templates, not paths
    assert 'tenancy_http_request_duration_seconds_bucket{le="0.001",method="GET"' in body
    assert 'tenancy_logins_total{outcome="invalid_credentials"}' in body
    for name in ("tenancy_outbox_backlog", "tenancy_outbox_failed_deliveries", "tenancy_db_pool_connections_in_use"):
        assert name in body

    spec = (await client.get(f"{API}/openapi.json")).json()
    assert "/metrics" not in spec["paths"]


async def test_metrics_can_be_turned_off(cluster, clock) -> None:
    from tests.conftest import SHARED

    app = create_app(make_settings(cluster.url(SHARED), metrics_enabled=False), clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        assert (await http.get("/metrics")).status_code == 404


async def test_ready_needs_the_database_at_the_latest_migration(client: httpx.AsyncClient, cluster, clock) -> None:
    assert (await client.get("/ready")).status_code == 200

    name = f"tenancy_empty_{uuid.uuid4().hex[:8]}"
    await cluster.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(cluster.url(name), pool_size=1)
    try:
        app = create_app(make_settings(cluster.url(name)), clock=clock)
        app.state.engine = engine
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            response = await http.get("/ready")
    finally:
        await engine.dispose()
        await cluster.drop(name)
    assert response.status_code == 503
    error = response.json()["errors"][0]
    assert error["code"] == "not_ready"
    assert "no revision" in error["detail"]
