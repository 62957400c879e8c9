"""Errors carry their HTTP status and code; one set of handlers renders the shared envelope.

Envelope: {"errors": [{"status": "409", "code": "already_member", "detail": "...",
                       "source": {"pointer": "/body/user_id"}, "meta": {}}]}
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("tenancy")


class AppError(Exception):
    status: int = 400
    code: str = "bad_request"
    detail: str = "The request cannot be processed."

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        pointer: str | None = None,
        meta: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.detail
        self.code = code or self.code
        self.status = status or self.status
        self.pointer = pointer
        self.meta = meta
        self.headers = headers
        super().__init__(self.detail)


class NotAuthenticated(AppError):
    status, code, detail = 401, "not_authenticated", "Missing, invalid or expired credentials."

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(AppError):
    status, code, detail = 403, "forbidden", "You are not allowed to do this."


class NotFound(AppError):
    status, code, detail = 404, "not_found", "Not found."


class Conflict(AppError):
    status, code, detail = 409, "conflict", "The request conflicts with the current state."


class TooManyRequests(AppError):
    status, code, detail = 429, "too_many_requests", "Too many attempts; retry later."

    def __init__(self, retry_after: int, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        kw.setdefault("meta", {"retry_after": max(1, retry_after)})
        super().__init__(**kw)


class ServerBusy(AppError):
    """Too much work queued (e.g. password hashing during a login flood): come back shortly."""

    status, code, detail = 503, "server_busy", "The server is busy; retry shortly."

    def __init__(self, retry_after: int = 1, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        kw.setdefault("meta", {"retry_after": max(1, retry_after)})
        super().__init__(**kw)


def error_body(
    status: int, code: str, detail: str, *, pointer: str | None = None, meta: dict[str, Any] | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {"status": str(status), "code": code, "detail": detail}
    if pointer is not None:
        item["source"] = {"pointer": pointer}
    if meta:
        item["meta"] = meta
    return {"errors": [item]}


def error_response(
    status: int, code: str, detail: str, *, headers: dict[str, str] | None = None, **kw: Any
) -> JSONResponse:
    return JSONResponse(error_body(status, code, detail, **kw), status_code=status, headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "server_busy",
}


def _pointer(loc: tuple[Any, ...]) -> str:
    return "/" + "/".join(str(part) for part in loc)


async def _app_error(_: Request, exc: AppError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.detail, pointer=exc.pointer, meta=exc.meta, headers=exc.headers)


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, "error")
    detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, detail, headers=getattr(exc, "headers", None))


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    # Never echo the submitted values (they may be passwords): only where and what kind.
    items = [
        {
            "status": "422",
            "code": "validation_error",
            "detail": str(err.get("msg", "Invalid value.")),
            "source": {"pointer": _pointer(tuple(err.get("loc", ())))},
            "meta": {"type": err.get("type", "value_error")},
        }
        for err in exc.errors()
    ]
    return JSONResponse({"errors": items}, status_code=422)


async def _unhandled(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    # Starlette renders this from its outermost middleware, outside SecurityHeaders: set them here.
    return error_response(
        500,
        "internal_error",
        "An unexpected error occurred.",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unhandled)
