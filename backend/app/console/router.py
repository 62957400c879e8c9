"""`/console`: the page, its assets, and the session endpoints that own the refresh-token cookie.

The browser keeps the access token in memory and never sees the refresh token: it lives in an
`HttpOnly; SameSite=Strict` cookie (`Secure` over https) whose path is `/console/api/session`, so
the browser sends it to these four endpoints and nowhere else. They call the same auth services
as `/api/v1/auth/*` and answer in the same error envelope; each one checks the request came from
the console page (`csrf.py`).
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse

from app.api.client import ClientDep
from app.api.deps import ClockDep, CurrentPrincipal, SessionDep, SettingsDep, TransactionsDep
from app.console.assets import PAGE_HEADERS, assets
from app.console.csrf import require_same_origin
from app.core.config import Settings
from app.core.errors import AppError, NotAuthenticated, NotFound, app_error_response
from app.domain.errors import InvalidRefreshToken
from app.schemas.auth import TokenCreate
from app.schemas.console import ConsoleSwitch, ConsoleTokenRead
from app.services import auth, sessions
from app.services.sessions import TokenPair

CONSOLE_PATH = "/console"
SESSION_PATH = "/console/api/session"
REFRESH_COOKIE = "tenancy_console_refresh"

pages = APIRouter(prefix=CONSOLE_PATH, include_in_schema=False)
session_api = APIRouter(prefix=SESSION_PATH, include_in_schema=False, dependencies=[Depends(require_same_origin)])


# ---------------------------------------------------------------------------------- pages


@pages.get("")
async def console_page() -> Response:
    page = assets()["index.html"]
    return Response(page.body, media_type=page.media_type, headers=PAGE_HEADERS)


@pages.get("/static/{name:path}")
async def console_asset(name: str, request: Request) -> Response:
    asset = assets().get(name)
    if asset is None or name == "index.html":
        raise NotFound()
    headers = {"ETag": asset.etag, **PAGE_HEADERS}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


# The default links in email (EMAIL_VERIFY_URL, PASSWORD_RESET_URL, INVITATION_URL) point here;
# each one opens the console's page for it, the token moved into the fragment (which browsers
# never send to a server nor put in a Referer).
email_links = APIRouter(include_in_schema=False)
_LINK_PAGES = {
    "/verify-email": "verify-email",
    "/reset-password": "reset-password",
    "/invitations/accept": "invitation",
}
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _link_page(page: str) -> Any:
    async def open_in_console(token: str = "") -> Response:
        target = f"{CONSOLE_PATH}#/{page}"
        if _TOKEN.fullmatch(token):
            target += f"?token={token}"
        return RedirectResponse(
            target, status_code=status.HTTP_303_SEE_OTHER, headers={"Referrer-Policy": "no-referrer"}
        )

    return open_in_console


for _path, _page in _LINK_PAGES.items():
    email_links.add_api_route(_path, _link_page(_page), methods=["GET"])


# ------------------------------------------------------------------------- the cookie


def _secure(request: Request, settings: Settings) -> bool:
    if settings.console_secure_cookie is not None:
        return settings.console_secure_cookie
    return request.url.scheme == "https" or settings.environment == "production"


def _with_cookie(pair: TokenPair, request: Request, settings: Settings) -> JSONResponse:
    body = ConsoleTokenRead(
        access_token=pair.access_token, expires_in=pair.expires_in, organization_id=pair.organization_id
    )
    response = JSONResponse(body.model_dump(mode="json"))
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh_token,
        max_age=settings.session_absolute_days * 24 * 3600,
        path=SESSION_PATH,
        secure=_secure(request, settings),
        httponly=True,
        samesite="strict",
    )
    return response


def _without_cookie(response: Response, request: Request, settings: Settings) -> Response:
    response.delete_cookie(
        REFRESH_COOKIE, path=SESSION_PATH, secure=_secure(request, settings), httponly=True, samesite="strict"
    )
    return response


def _cookie(request: Request) -> str:
    token = request.cookies.get(REFRESH_COOKIE)
    if not token or len(token) > 512:
        raise InvalidRefreshToken()
    return token


# ---------------------------------------------------------------------- session endpoints


@session_api.post("", response_model=ConsoleTokenRead)
async def log_in(
    body: TokenCreate,
    request: Request,
    transactions: TransactionsDep,
    settings: SettingsDep,
    clock: ClockDep,
    client: ClientDep,
) -> Response:
    """Log in: the access token in the body, the refresh token in the cookie."""
    outcome = await auth.login(
        transactions,
        settings,
        email=body.email,
        password=body.password,
        organization_id=body.organization_id,
        client=client,
        now=clock.now(),
    )
    return _with_cookie(outcome, request, settings)


@session_api.post("/refresh", response_model=ConsoleTokenRead)
async def refresh(request: Request, db: SessionDep, settings: SettingsDep, clock: ClockDep) -> Response:
    """Rotate the cookie's refresh token; a new access token in the body."""
    try:
        outcome = await sessions.refresh(db, settings, refresh_token=_cookie(request), now=clock.now())
    except AppError as refusal:
        if not refusal.commits:
            raise
        # A used token came back: the session is ended (committed), and so is the cookie.
        return _without_cookie(app_error_response(refusal), request, settings)
    return _with_cookie(outcome, request, settings)


@session_api.post("/switch", response_model=ConsoleTokenRead)
async def switch_organization(
    body: ConsoleSwitch,
    request: Request,
    principal: CurrentPrincipal,
    db: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    """Make `organization_id` the session's active organization: the cookie's refresh token is
    rotated (SPEC §6), so the cookie is replaced; a used one ends the session."""
    try:
        outcome = await sessions.switch_organization(
            db,
            settings,
            principal=principal,
            organization_id=body.organization_id,
            refresh_token=_cookie(request),
            now=clock.now(),
        )
    except AppError as refusal:
        if not refusal.commits:
            raise
        return _without_cookie(app_error_response(refusal), request, settings)
    if not isinstance(outcome, TokenPair):  # pragma: no cover - a refresh token was given
        raise InvalidRefreshToken()
    return _with_cookie(outcome, request, settings)


@session_api.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def log_out(request: Request, db: SessionDep, settings: SettingsDep, clock: ClockDep) -> Response:
    """End the cookie's session and forget the cookie (a no-op when there is none or it is unknown)."""
    token = request.cookies.get(REFRESH_COOKIE)
    if token and len(token) <= 512:
        # An unknown token: nothing to end, and nothing was written.
        with contextlib.suppress(NotAuthenticated):
            await sessions.logout(db, settings, access_token=None, refresh_token=token, now=clock.now())
    return _without_cookie(Response(status_code=status.HTTP_204_NO_CONTENT), request, settings)
