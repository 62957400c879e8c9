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

from app.domain.errors import AppError, Conflict, Forbidden, NotAuthenticated, NotFound, ServerBusy, TooManyRequests

# The base classes live in the domain; re-exported for the handlers' callers.
__all__ = [
    "AppError",
    "Conflict",
    "Forbidden",
    "NotAuthenticated",
    "NotFound",
    "ServerBusy",
    "TooManyRequests",
    "app_error_response",
    "error_body",
    "error_response",
    "install_error_handlers",
]

log = logging.getLogger("tenancy")


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


def app_error_response(exc: AppError) -> JSONResponse:
    """The envelope of one error, with its status and headers."""
    return error_response(exc.status, exc.code, exc.detail, pointer=exc.pointer, meta=exc.meta, headers=exc.headers)


async def _app_error(_: Request, exc: AppError) -> JSONResponse:
    return app_error_response(exc)


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
