"""Threat: any input the document allows (and much it does not) crashing the service or answering
outside its own contract — schemathesis against the ASGI app, with real tokens.

Bounded here (FUZZ_EXAMPLES per operation, default 4) so the suite stays fast. The longer run is
one command (see docs/security.md):

    FUZZ_EXAMPLES=200 uv run pytest -m security backend/tests/security/test_api_fuzzing.py

Checks: no 5xx (`not_a_server_error`), responses whose status the document describes match its
schema (`response_schema_conformance`) and content type (`content_type_conformance`). Statuses
the document does not list (most 4xx of most routes) are not failures here: listing them is the
OpenAPI work of another issue.

References: OWASP ASVS 5.0 V16.5.3 (no unhandled errors from input), V1.5 (validation); OWASP API
Top 10 2023 API8 (Security Misconfiguration), API4 (Unrestricted Resource Consumption).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import schemathesis
from conftest import Cluster, make_settings
from factories import bearer, create_user, issue_token
from hypothesis import HealthCheck, given, settings
from org_factories import join, make_org
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from app.core.clock import FrozenClock
from app.core.database import make_engine, make_sessionmaker
from app.main import create_app

pytestmark = [pytest.mark.security, pytest.mark.concurrency]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class Fuzz:
    org: uuid.UUID
    member: uuid.UUID
    headers: dict[str, str]


FUZZ = Fuzz()


@pytest.fixture(scope="module")
def api_schema(cluster: Cluster) -> Iterator[schemathesis.schemas.BaseSchema]:
    name = f"tenancy_fuzz_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(cluster.clone(name))
    settings_ = make_settings(url, login_ip_rate_per_minute=0)

    async def world() -> None:
        engine = make_engine(url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as db, db.begin():
                owner = await create_user(db, now=START)
                FUZZ.org = await make_org(db, owner, START, name="Fuzzed")
                FUZZ.member = await create_user(db, now=START)
                await join(db, FUZZ.org, FUZZ.member, START)
                FUZZ.headers = bearer(await issue_token(db, settings_, user_id=owner, now=START))
        finally:
            await engine.dispose()

    asyncio.run(world())
    app = create_app(settings_, clock=FrozenClock(START))
    try:
        yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    finally:
        asyncio.run(cluster.drop(name))


def _labels() -> list[str]:
    """The operations of the document (read from an app that needs no database to describe itself)."""
    described = schemathesis.openapi.from_dict(
        create_app(make_settings("postgresql+asyncpg://unused@/unused")).openapi()
    )
    return [result.ok().label for result in described.get_all_operations()]


@pytest.mark.parametrize("label", _labels())
def test_no_input_crashes_the_api_or_breaks_its_contract(
    api_schema: schemathesis.schemas.BaseSchema, label: str
) -> None:
    """ASVS 5.0 V16.5.3 / API8:2023 — generated requests, the owner's real token, the real org id."""
    operation = next(r.ok() for r in api_schema.get_all_operations() if r.ok().label == label)
    statuses: list[int] = []

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        if case.path_parameters and "org_id" in case.path_parameters:
            case.path_parameters["org_id"] = str(FUZZ.org)
        if case.path_parameters and "user_id" in case.path_parameters and case.method.upper() == "GET":
            case.path_parameters["user_id"] = str(FUZZ.member)
        headers = dict(case.headers or {})
        headers.pop("X-API-Key", None)  # one credential at a time (both: 400 by design)
        headers.update(FUZZ.headers)
        response = case.call_and_validate(
            headers=headers, checks=[not_a_server_error, response_schema_conformance, content_type_conformance]
        )
        statuses.append(response.status_code)

    run()
    assert statuses and max(statuses) < 500  # requests were really made, none failed on the server
