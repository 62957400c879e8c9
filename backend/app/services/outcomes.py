"""Refusals that must still commit what they wrote.

A request's transaction rolls back when the endpoint raises. Most refusals want exactly that, but
a few must keep a fact they appended on the way: a failed login's attempt row (throttling counts
it), a session revoked because a used refresh token came back (reuse detection). Those services
return `Refused(error)` instead of raising; the endpoint renders `error` in the usual envelope
and returns normally, so the transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import AppError


@dataclass(frozen=True, slots=True)
class Refused:
    error: AppError
