"""CORS for a frontend on another origin: allowed origins only, Retry-After exposed, no credentials."""

from __future__ import annotations

import httpx

from app.main import create_app
from tests.conftest import SHARED, make_settings

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test")


async def test_allowed_origin_preflight_and_exposed_headers(cluster, clock) -> None:
    app = create_app(make_settings(cluster.url(SHARED), cors_origins="http://localhost:5173"), clock=clock)
    async with _client(app) as http:
        ok = await http.options("/api/v1/auth/token", headers={"Origin": "http://localhost:5173", **PREFLIGHT})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "http://localhost:5173"
        assert "access-control-allow-credentials" not in ok.headers
        assert "authorization" in ok.headers["access-control-allow-headers"].lower()

        other = await http.options("/api/v1/auth/token", headers={"Origin": "https://evil.example", **PREFLIGHT})
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers

        simple = await http.get("/health", headers={"Origin": "http://localhost:5173"})
        assert simple.headers["access-control-allow-origin"] == "http://localhost:5173"
        exposed = {h.strip().lower() for h in simple.headers["access-control-expose-headers"].split(",")}
        assert {"retry-after", "x-request-id"} <= exposed
        assert "access-control-allow-credentials" not in simple.headers


async def test_preflight_without_configured_origins_says_why(client: httpx.AsyncClient) -> None:
    response = await client.options("/api/v1/auth/token", headers={"Origin": "http://localhost:5173", **PREFLIGHT})
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "cors_origin_not_allowed"
    assert "CORS_ORIGINS" in response.json()["errors"][0]["detail"]
    assert "access-control-allow-origin" not in response.headers
