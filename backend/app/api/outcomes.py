"""Render a service's `Refused` outcome — the same envelope, status and headers as if the error
had been raised — while letting the request's transaction commit (see `services/outcomes.py`)."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from app.core.errors import error_response
from app.services.outcomes import Refused


def refusal_response(refused: Refused) -> JSONResponse:
    error = refused.error
    return error_response(
        error.status, error.code, error.detail, headers=error.headers, pointer=error.pointer, meta=error.meta
    )
