"""Per-address login throttling (LOGIN_IP_RATE_PER_MINUTE), with a settings override."""

from __future__ import annotations

import httpx
import pytest
from conftest import SHARED, Cluster, make_settings
from factories import DEFAULT_PASSWORD
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
        assert response.status_code == 401
        clock.advance(seconds=10)
    blocked = await client.post(
        f"{API}/auth/token", json={"email": "spray-next@example.com", "password": DEFAULT_PASSWORD}
    )
    assert blocked.status_code == 429
    # The oldest of the three attempts leaves the window 60 s after it was made (30 s ago).
    assert int(blocked.headers["retry-after"]) == 30
    async with client_from(app, "198.51.100.20") as elsewhere:
        other = await elsewhere.post(
            f"{API}/auth/token", json={"email": "spray-next@example.com", "password": "x" * 12}
        )
        assert other.status_code == 401  # another address is not throttled
    clock.advance(seconds=30)
    again = await client.post(f"{API}/auth/token", json={"email": "spray-next@example.com", "password": "x" * 12})
    assert again.status_code == 401
