"""Dependency aliases: the database session, settings, clock and the authenticated caller."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.config import Settings
from app.core.database import Transactions, get_db, get_transactions
from app.core.errors import NotAuthenticated
from app.domain.errors import AmbiguousCredentials, ApiKeyNotAllowed
from app.domain.permissions import Permission
from app.domain.sessions import Principal
from app.observability.request_log import note_caller
from app.services import policies
from app.services.api_keys import key_context
from app.services.org_access import org_context
from app.services.policies import OrgContext
from app.services.sessions import authenticate

# tokenUrl makes Swagger UI's "Authorize" button log in with the password form.
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="Log in with your **email** (type it in the `username` field: OAuth2 names it so) and password.",
)
# Declared on the org-scoped routes only, so Swagger UI offers the key where it can be used.
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An organization's API key (`tnc_…`), for that organization's routes only.",
)


# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def` dependency
# in the thread pool, and that hop cost ~0.3 ms per dependency per request (profiled).
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_clock(request: Request) -> Clock:
    return request.app.state.clock


# scope="function": the transaction commits before the response is sent (the default, "request",
# would send the response first — a client could act on a 204 logout before it is committed, and a
# failed commit would follow a success response).
SessionDep = Annotated[AsyncSession, Depends(get_db, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
TransactionsDep = Annotated[Transactions, Depends(get_transactions)]
ClockDep = Annotated[Clock, Depends(get_clock)]
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]
ApiKeyHeader = Annotated[str | None, Depends(api_key_scheme)]


def _credentials(request: Request) -> tuple[bool, bool]:
    """(Authorization sent, X-API-Key sent); both → 400 `ambiguous_credentials`."""
    has_token, has_key = "authorization" in request.headers, "x-api-key" in request.headers
    if has_token and has_key:
        raise AmbiguousCredentials()
    return has_token, has_key


async def refuse_api_key(request: Request) -> None:
    """User routes (`/auth/*`, `/users/*`, `/organizations` list and create): no API key."""
    _, has_key = _credentials(request)
    if has_key:
        raise ApiKeyNotAllowed()


async def _user_token(request: Request, token: str | None) -> str:
    """The bearer token of a user route: an API key is refused there, no token is 401."""
    await refuse_api_key(request)
    if not token:
        raise NotAuthenticated()
    return token


async def get_current_principal(
    request: Request, db: SessionDep, settings: SettingsDep, clock: ClockDep, token: BearerToken
) -> Principal:
    """The caller of a request that is not scoped to one organization (one query)."""
    principal = await authenticate(db, settings, token=await _user_token(request, token), now=clock.now())
    note_caller(request.state, user_id=principal.user_id, organization_id=principal.token_organization_id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]


async def get_released_principal(
    request: Request, transactions: TransactionsDep, settings: SettingsDep, clock: ClockDep, token: BearerToken
) -> Principal:
    """`get_current_principal` read in a short transaction of its own, which gives its connection
    back at once: for routes that then run argon2 (`services/credentials.py`) and open their own
    short transactions — the request holds no pooled connection while it hashes."""
    bearer = await _user_token(request, token)
    async with transactions() as db:
        principal = await authenticate(db, settings, token=bearer, now=clock.now())
    note_caller(request.state, user_id=principal.user_id, organization_id=principal.token_organization_id)
    return principal


ReleasedPrincipal = Annotated[Principal, Depends(get_released_principal)]


async def get_current_user(
    request: Request, db: SessionDep, settings: SettingsDep, clock: ClockDep, token: BearerToken
) -> Principal:
    """`get_current_principal` with the user's whole state in the same query (`principal.user`)."""
    return await authenticate(db, settings, token=await _user_token(request, token), now=clock.now(), with_user=True)


CurrentUser = Annotated[Principal, Depends(get_current_user)]


# --------------------------------------------------------------------------- tenancy guard


async def get_org_context(
    org_id: uuid.UUID,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    token: BearerToken,
    api_key: ApiKeyHeader,
) -> OrgContext:
    """The one guard of every `/organizations/{org_id}/…` route.

    Authentication and the caller's standing in the organization (membership, admin grant,
    owner, the organization's status facts) come from ONE query (`load_principal`), so an
    org-scoped read costs this query plus its own. Unknown and invisible organizations get the
    same 404; the per-action rules (status, permission table) are applied by the service.
    The token's `org` claim plays no part: standing is re-read on every request.

    With `X-API-Key` instead of a token, the key's liveness, expiry, permissions and its
    organization's standing come from ONE query as well (`load_key_principal`); another
    organization's id answers 404.
    """
    _, has_key = _credentials(request)
    now = clock.now()
    if has_key:
        context = await key_context(db, key=api_key or "", organization_id=org_id, now=now)
        note_caller(request.state, api_key_id=context.api_key_id)
        return context
    if not token:
        raise NotAuthenticated()
    principal = await authenticate(db, settings, token=token, now=now, organization_id=org_id)
    note_caller(request.state, user_id=principal.user_id)
    return org_context(principal, now=now)


OrgContextDep = Annotated[OrgContext, Depends(get_org_context)]


# ------------------------------------------------------------------------ route permissions


def Requires(permission: Permission, *, or_self: str | None = None) -> Any:
    """The permission an org-scoped route needs, declared beside the route and checked by the guard:

        @router.post("/{org_id}/members", dependencies=[Requires(Permission.MEMBERS_ADD)])

    It runs the one guard (`get_org_context`, cached for the request, so the endpoint's
    `OrgContextDep` is the same context) and then `policies.admit` — 403
    `organization_suspended`, then 403 `forbidden`. `or_self` names a path parameter: when it is
    the caller's own user id, the permission is not needed (leaving an organization); the
    service still applies its finer rule inside the organization lock.
    """

    async def guard(ctx: OrgContextDep, request: Request) -> OrgContext:
        allowed = True if or_self is not None and _is_self(ctx, request.path_params.get(or_self)) else None
        policies.admit(ctx, permission, allowed=allowed)
        return ctx

    guard.permission = permission  # type: ignore[attr-defined]  # read by route_permission
    guard.__name__ = f"requires_{permission.replace(':', '_')}"
    return Depends(guard)


def _is_self(ctx: OrgContext, raw: object) -> bool:
    try:
        return uuid.UUID(str(raw)) == ctx.user_id
    except ValueError:
        return False


def route_permission(route: Any) -> Permission | None:
    """The permission a route declares with `Requires`, or None (for tests, docs and OpenAPI)."""
    for dependency in getattr(getattr(route, "dependant", None), "dependencies", []):
        call: Callable[..., Awaitable[Any]] | None = dependency.call
        permission = getattr(call, "permission", None)
        if permission is not None:
            return Permission(permission)
    return None


def describe_permissions(router: Any) -> None:
    """Name each route's permission in its OpenAPI description (call once all routes are defined)."""
    for route in router.routes:
        permission = route_permission(route)
        if permission is not None:
            note = f"Needs the permission `{permission}`."
            route.description = f"{route.description}\n\n{note}" if route.description else note
