"""Every error has one shape (SPEC §6), carries nosniff, and never leaks input, SQL or tracebacks.

`{"errors": [{"status": "404", "code": "not_found", "detail": "...",
              "source": {"pointer": "/body/x"}, "meta": {...}}]}` — `source` and `meta` optional.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

SECRET_PASSWORD = "hunter2-but-much-longer-and-secret"
SECRET_SQL = "secret SQL SELECT password_hash FROM user_login_password WHERE email = 'x'"


class _Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254)
    password: str = Field(min_length=12, max_length=256)
    remember: bool = False


def _install_test_routes(app: FastAPI) -> None:
    async def login(body: _Login) -> dict[str, str]:
        return {"email": body.email}

    async def boom() -> None:
        raise RuntimeError(SECRET_SQL)

    app.add_api_route("/_test/login", login, methods=["POST"])
    app.add_api_route("/_test/boom", boom, methods=["GET"])


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    _install_test_routes(app)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def assert_envelope(response: httpx.Response, status: int, code: str | None = None) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("x-content-type-options") == "nosniff"
    body = response.json()
    assert set(body) == {"errors"}
    errors = body["errors"]
    assert isinstance(errors, list) and errors
    for error in errors:
        assert set(error) <= {"status", "code", "detail", "source", "meta"}, error
        assert error["status"] == str(status)
        assert isinstance(error["code"], str) and error["code"]
        assert isinstance(error["detail"], str) and error["detail"]
        if "source" in error:
            assert set(error["source"]) == {"pointer"}
            assert error["source"]["pointer"].startswith("/")
        if "meta" in error:
            assert isinstance(error["meta"], dict)
    if code is not None:
        assert {e["code"] for e in errors} == {code}
    return errors


async def test_success_carries_nosniff_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/nothing-here", "/api/v1/nothing-here", "/api/v1/organizations/x/y/z/w"])
async def test_routing_404(client: httpx.AsyncClient, path: str) -> None:
    assert_envelope(await client.get(path), 404, "not_found")


async def test_routing_405(client: httpx.AsyncClient) -> None:
    response = await client.post("/health")
    assert_envelope(response, 405, "method_not_allowed")
    assert "GET" in response.headers.get("allow", "")


async def test_422_points_at_fields_and_echoes_no_input(client: httpx.AsyncClient) -> None:
    payload = {"email": "someone@example.com", "password": "short-" + "p" * 3, "role": "owner-" + SECRET_PASSWORD}
    response = await client.post("/_test/login", json=payload)
    errors = assert_envelope(response, 422, "validation_error")
    pointers = {e["source"]["pointer"] for e in errors}
    assert pointers == {"/body/password", "/body/role"}
    assert response.text.count(SECRET_PASSWORD) == 0
    assert payload["password"] not in response.text
    assert "someone@example.com" not in response.text
    for error in errors:
        assert "input" not in error.get("meta", {})
        assert "ctx" not in error.get("meta", {})


async def test_422_for_a_long_password_does_not_echo_it(client: httpx.AsyncClient) -> None:
    password = SECRET_PASSWORD * 10  # over max_length
    response = await client.post("/_test/login", json={"email": "a@example.com", "password": password})
    (error,) = assert_envelope(response, 422, "validation_error")
    assert error["source"]["pointer"] == "/body/password"
    assert SECRET_PASSWORD not in response.text


async def test_422_for_missing_fields_and_bad_json(client: httpx.AsyncClient) -> None:
    errors = assert_envelope(await client.post("/_test/login", json={}), 422, "validation_error")
    assert {e["source"]["pointer"] for e in errors} == {"/body/email", "/body/password"}

    response = await client.post(
        "/_test/login",
        content=b'{"email": "a@example.com", "password": "' + SECRET_PASSWORD.encode() + b'"',
        headers={"content-type": "application/json"},
    )
    assert_envelope(response, 422, "validation_error")
    assert SECRET_PASSWORD not in response.text

    response = await client.post("/_test/login", json={"email": ["x"], "password": 12345678901234})
    errors = assert_envelope(response, 422, "validation_error")
    assert "12345678901234" not in response.text
    assert {e["source"]["pointer"] for e in errors} == {"/body/email", "/body/password"}


async def test_413_with_content_length(client: httpx.AsyncClient, app: FastAPI) -> None:
    limit = app.state.settings.max_body_bytes
    body = json.dumps({"email": "a@example.com", "password": "p" * limit}).encode()
    response = await client.post("/_test/login", content=body, headers={"content-type": "application/json"})
    assert_envelope(response, 413, "payload_too_large")

    # Even on a route that does not exist: the body is refused before routing.
    assert_envelope(await client.post("/nothing-here", content=b"x" * (limit + 1)), 413, "payload_too_large")


async def test_413_with_a_streamed_body(client: httpx.AsyncClient, app: FastAPI) -> None:
    """No Content-Length (chunked): the limit counts what actually arrives."""
    limit = app.state.settings.max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"email": "a@example.com", "password": "'
        for _ in range(limit // 1024 + 2):
            yield b"p" * 1024
        yield b'"}'

    response = await client.post("/_test/login", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_envelope(response, 413, "payload_too_large")


async def test_a_body_at_the_limit_is_accepted(client: httpx.AsyncClient, app: FastAPI) -> None:
    limit = app.state.settings.max_body_bytes
    prefix = b'{"email": "a@example.com", "password": "'
    body = prefix + b"p" * (limit - len(prefix) - 2) + b'"}'
    assert len(body) == limit
    response = await client.post("/_test/login", content=body, headers={"content-type": "application/json"})
    # Not 413: it reaches validation (the password is over 256 characters).
    (error,) = assert_envelope(response, 422, "validation_error")
    assert error["source"]["pointer"] == "/body/password"


async def test_500_reveals_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get("/_test/boom")
    (_error,) = assert_envelope(response, 500, "internal_error")
    for leak in ("Traceback", "RuntimeError", "SELECT", "secret", "password_hash", 'File "', ".py"):
        assert leak not in response.text
