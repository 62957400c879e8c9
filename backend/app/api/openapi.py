"""The OpenAPI document as the API really answers: every error in the shared envelope.

FastAPI declares its own `{"detail": [...]}` shape for 422 and nothing else; the handlers in
`core/errors.py` answer the envelope for every error. Here the generated document is rewritten
once: every declared error response (the routers' own `responses=` and the ones that follow from
how a route is reached, below) points at the `ErrorEnvelope` schema, FastAPI's validation schemas
are dropped, and the tags come in a reader's order. `tests/api/test_openapi.py` checks that every
status the suite's API tests observed on a route is declared for it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

API_PREFIX = "/api/v1"

TAGS = [
    {"name": "auth", "description": "Register, log in (email and password), refresh, log out, sessions."},
    {"name": "email", "description": "Email verification, password reset and email change (links sent by email)."},
    {"name": "users", "description": "Profiles, passwords and account status."},
    {"name": "organizations", "description": "Organizations, members, admins, the owner and their history."},
    {"name": "invitations", "description": "Invite people to an organization; accept or decline."},
    {"name": "api keys", "description": "Organization API keys for other backends (`X-API-Key`)."},
    {"name": "service", "description": "Liveness and readiness."},
]


class ErrorSource(BaseModel):
    pointer: str = Field(description="Where the problem is, e.g. `/body/email`, `/query/limit`.")


class ErrorItem(BaseModel):
    status: str = Field(description="The HTTP status, as a string.", examples=["409"])
    code: str = Field(description="Stable machine-readable code.", examples=["already_member"])
    detail: str = Field(description="Human-readable explanation.")
    source: ErrorSource | None = None
    meta: dict[str, Any] | None = Field(None, description="Extra facts, e.g. `retry_after`, validation `type`.")


class ErrorEnvelope(BaseModel):
    """Every error answer of the API."""

    errors: list[ErrorItem]


_REASONS = {
    400: "Bad request (e.g. `ambiguous_credentials`: both `Authorization` and `X-API-Key`)",
    401: "Not authenticated: missing, invalid or expired credentials",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict with the current state",
    410: "Gone",
    413: "`payload_too_large`: the body exceeds MAX_BODY_BYTES",
    422: "`validation_error`: one item per invalid field, with `source.pointer`",
    429: "`too_many_requests`, with `Retry-After`",
    503: "Unavailable, with `Retry-After` where it applies",
}

# Statuses that follow from how a route is reached (see `implied_statuses`), plus what each route's
# own rules answer beyond those, by (method, path template). Kept here, in one place, so the
# routers stay readable; the suite checks it against what the API really answers.
ROUTE_ERRORS: dict[tuple[str, str], set[int]] = {
    ("GET", "/ready"): {503},
    ("GET", f"{API_PREFIX}/ready"): {503},
    ("POST", f"{API_PREFIX}/auth/register"): {409},  # email_already_registered
    ("POST", f"{API_PREFIX}/auth/token"): {404},  # logging straight into an unknown organization
    ("POST", f"{API_PREFIX}/auth/refresh"): {401},
    ("POST", f"{API_PREFIX}/auth/switch-organization"): {404},
    ("DELETE", f"{API_PREFIX}/auth/sessions/{{session_id}}"): {404},
    ("POST", f"{API_PREFIX}/organizations/{{org_id}}/invitations"): {429},  # invitations per hour
    ("POST", f"{API_PREFIX}/invitations/accept"): {404},
    ("POST", f"{API_PREFIX}/invitations/decline"): {404},
    ("POST", f"{API_PREFIX}/invitations/{{invitation_id}}/accept"): {404},
    ("POST", f"{API_PREFIX}/invitations/{{invitation_id}}/decline"): {404},
}

# Route families whose callers are users only: an API key is refused (403 `api_key_not_allowed`,
# 400 `ambiguous_credentials` together with a token), whether or not the route needs a login.
_USER_ONLY = (f"{API_PREFIX}/auth", f"{API_PREFIX}/users", f"{API_PREFIX}/invitations")
_MUTATING = {"POST", "PATCH", "DELETE"}


def implied_statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    statuses: set[int] = set()
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.add(422)
    if operation.get("requestBody"):
        statuses.add(413)
    schemes = {name for requirement in operation.get("security", []) for name in requirement}
    if schemes:
        statuses |= {400, 401}
    if "OAuth2PasswordBearer" in schemes and "APIKeyHeader" not in schemes:
        statuses.add(403)  # `api_key_not_allowed` on user routes, and the route's own refusals
    if path.startswith(_USER_ONLY):
        statuses |= {400, 403}
    if path.startswith(f"{API_PREFIX}/organizations/{{org_id}}"):
        statuses |= {400, 401, 403, 404}
        if method in _MUTATING:
            statuses.add(409)  # the organization's status or the membership state forbids it now
    if path.startswith(f"{API_PREFIX}/users/{{user_id}}"):
        statuses.add(404)
        if method in _MUTATING:
            statuses.add(409)  # the account's status forbids it now
    return statuses


def _envelope_response(status: int, existing: dict[str, Any] | None) -> dict[str, Any]:
    description = (existing or {}).get("description") or _REASONS.get(status, "Error")
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
    }


def rewrite(schema: dict[str, Any]) -> dict[str, Any]:
    """Every error response in the envelope schema; implied and listed statuses added."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorEnvelope, ErrorItem, ErrorSource):
        components[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components[model.__name__].pop("$defs", None)
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            declared = {int(code) for code in responses if str(code).isdigit() and int(code) >= 400}
            wanted = declared | implied_statuses(method.upper(), path, operation)
            wanted |= ROUTE_ERRORS.get((method.upper(), path), set())
            for status in sorted(wanted):
                # FastAPI's own 422 description ("Validation Error") is replaced along with its schema.
                existing = responses.get(str(status)) if status != 422 else None
                responses[str(status)] = _envelope_response(status, existing)
            operation["responses"] = dict(sorted(responses.items()))
    return schema


def install(app: FastAPI) -> None:
    """Replace `app.openapi` with the rewritten, cached document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=TAGS,
            )
            app.openapi_schema = rewrite(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def declared(schema: dict[str, Any]) -> dict[tuple[str, str], set[int]]:
    """(METHOD, path template) → the statuses the document declares for it."""
    return {
        (method.upper(), path): {int(code) for code in operation["responses"] if str(code).isdigit()}
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    }
