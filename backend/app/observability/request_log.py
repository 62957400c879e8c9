"""One structured line per request, and the request id (pure ASGI: no per-request task or copy).

The line names method, route template (never the raw path or query: they may carry tokens),
status, duration, request id, the caller (user or API key id) and the organization id. The caller
is noted by the authentication dependencies (`note_caller`); nothing from bodies or headers other
than X-Request-ID is read.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability import metrics

log = logging.getLogger("tenancy.request")

_SAFE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
_UNMATCHED = "<unmatched>"


def route_template(scope: Scope) -> str:
    """The matched route's full path template (`/api/v1/organizations/{org_id}`), never the raw path.

    FastAPI ≥ 0.140 keeps included routers nested: `scope["route"]` is the router-relative route and
    the full template is in FastAPI's effective route context (the same one its telemetry uses).
    """
    context = _effective_route_context(scope)
    path = getattr(context, "path", None)
    if path:
        return str(path)
    route = scope.get("route")
    if route is not None:
        return str(route.path)
    endpoint = scope.get("endpoint")  # a plain Starlette route or mount (the OpenAPI document, assets)
    if endpoint is not None and "app" in scope:
        for candidate in scope["app"].router.routes:
            if getattr(candidate, "endpoint", None) is endpoint:
                return str(candidate.path)
            if getattr(candidate, "app", None) is endpoint:
                return f"{candidate.path}/{{path}}"
    return _UNMATCHED


try:
    from fastapi.routing import _get_scope_effective_route_context as _effective_route_context
except ImportError:  # another FastAPI: routes are flattened and `scope["route"].path` is complete

    def _effective_route_context(scope: Scope) -> Any | None:
        return None


def note_caller(
    state: Any, *, user_id: object = None, api_key_id: object = None, organization_id: object = None
) -> None:
    """Called by the auth dependencies with `request.state`: who the request acts as."""
    state.log_user_id = user_id
    state.log_api_key_id = api_key_id
    if organization_id is not None:
        state.log_organization_id = organization_id


def configure(log_format: str) -> None:
    """A handler of its own for the request lines on stderr (idempotent), formatted as asked."""
    if any(getattr(h, "_tenancy_request_log", False) for h in log.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._tenancy_request_log = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def _text(fields: dict[str, Any]) -> str:
    extra = " ".join(f"{k}={v}" for k, v in fields.items() if k not in _TEXT_HEAD and v is not None)
    return f"{fields['method']} {fields['route']} {fields['status']} {fields['duration_ms']}ms {extra}"


_TEXT_HEAD = {"method", "route", "status", "duration_ms", "event"}


class RequestLog:
    def __init__(
        self, app: ASGIApp, *, log_format: str = "text", log_requests: bool = True, metrics_on: bool = True
    ) -> None:
        self.app = app
        self.json = log_format == "json"
        self.log_requests = log_requests
        self.metrics_on = metrics_on

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                text = value.decode("latin-1")
                if _SAFE_ID.fullmatch(text):
                    request_id = text
                break
        if request_id is None:
            request_id = uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._done(scope, state, status, time.perf_counter() - start, request_id)

    def _done(self, scope: Scope, state: dict[str, Any], status: int, seconds: float, request_id: str) -> None:
        template = route_template(scope)
        method = scope["method"]
        if self.metrics_on:
            metrics.observe_request(method, template, status, seconds)
        if not self.log_requests:
            return
        org = scope.get("path_params", {}).get("org_id") or state.get("log_organization_id")
        fields = {
            "event": "request",
            "method": method,
            "route": template,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "request_id": request_id,
            "user_id": state.get("log_user_id"),
            "api_key_id": state.get("log_api_key_id"),
            "organization_id": org,
        }
        if self.json:
            log.info(json.dumps(fields, default=str, separators=(",", ":")))
        else:
            log.info(_text(fields))
