"""CORS for browser frontends on other origins (see docs/auth-flow.md).

- Only the origins in CORS_ORIGINS (each `scheme://host[:port]`, checked in the settings).
- No `Access-Control-Allow-Credentials`: the API reads no cookie cross-origin (tokens travel in
  `Authorization`; the console's cookie is same-origin), so a page elsewhere gets nothing from
  the browser's cookies.
- `Retry-After` and `X-Request-ID` are exposed, so a page can back off after a 429 and quote the id.
- Without CORS_ORIGINS a preflight gets a 403 in the error envelope that says why, instead of a
  bare 405 from the router.
"""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.config import Settings
from app.core.errors import error_body

ALLOWED_METHODS = ["GET", "POST", "PATCH", "DELETE"]
ALLOWED_HEADERS = ["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"]
EXPOSED_HEADERS = ["Retry-After", "X-Request-ID"]


class PreflightWithoutOrigins:
    """No origin is allowed: answer preflights in words (the browser blocks the request either way)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.body = json.dumps(
            error_body(
                403,
                "cors_origin_not_allowed",
                "Cross-origin requests are not allowed: this server has no CORS_ORIGINS configured.",
            )
        ).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            names = {name for name, _ in scope["headers"]}
            if b"origin" in names and b"access-control-request-method" in names:
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(self.body)).encode())]
                await send({"type": "http.response.start", "status": 403, "headers": headers})
                await send({"type": "http.response.body", "body": self.body})
                return
        await self.app(scope, receive, send)


def install(app: FastAPI, settings: Settings) -> None:
    if not settings.cors_origins:
        app.add_middleware(PreflightWithoutOrigins)
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=False,
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
