"""Per-address login throttling (LOGIN_IP_RATE_PER_MINUTE), with a settings override."""

from __future__ import annotations

import httpx
import pytest
from conftest import SHARED, Cluster, make_settings
from factories import DEFAULT_PASSWORD, assert_error
from fastapi import FastAPI

from app.core.clock import FrozenClock
from app.core.config import Settings

API = "/api/v1"
RATE = 3


@pytest.fixture
def settings(cluster: Cluster) -> Settings:
    return make_settings(cluster.url(SHARED), login_ip_rate_per_minute=RATE)


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_one_address_gets_a_few_attempts_per_minute(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    # Different accounts each time: only the address limit can trigger.
    for i in range(RATE):
        response = await client.post(f"{API}/auth/token", json={"email": f"spray{i}@example.com", "password": "x" * 12})
        assert_error(response, 401, "invalid_credentials")
        clock.advance(seconds=10)
    blocked = await client.post(
        f"{API}/auth/token", json={"email": "spray-next@example.com", "password": DEFAULT_PASSWORD}
    )
    assert_error(blocked, 429, "too_many_requests")
    # The oldest of the three attempts leaves the window 60 s after it was made (30 s ago).
    assert int(blocked.headers["retry-after"]) == 30
    async with client_from(app, "198.51.100.20") as elsewhere:
        other = await elsewhere.post(
            f"{API}/auth/token", json={"email": "spray-next@example.com", "password": "x" * 12}
        )
        assert_error(other, 401, "invalid_credentials")  # another address is not throttled
    clock.advance(seconds=30)
    again = await client.post(f"{API}/auth/token", json={"email": "spray-next@example.com", "password": "x" * 12})
    assert_error(again, 401, "invalid_credentials")
