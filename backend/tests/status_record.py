"""Which statuses each route answered during the run (through the shared `client` fixture), so
`tests/api/test_openapi.py` can compare them with what the OpenAPI document declares."""

from __future__ import annotations

from collections import defaultdict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability.request_log import route_template

OBSERVED: defaultdict[tuple[str, str], set[int]] = defaultdict(set)


class Recording:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status: int | None = None

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            if scope["type"] == "http" and status is not None:
                route = route_template(scope)
                if route != "<unmatched>":
                    OBSERVED[(scope["method"], route)].add(status)
