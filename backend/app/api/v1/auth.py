"""/auth: register, token (log in), refresh, logout, switch-organization, me, sessions."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from app.api.client import ClientDep
from app.api.deps import BearerToken, ClockDep, CurrentPrincipal, CurrentUser, SessionDep, SettingsDep, TransactionsDep
from app.schemas import cursors
from app.schemas.auth import (
    AccessTokenRead,
    LogoutBody,
    MeRead,
    OrganizationSwitch,
    RegistrationRead,
    SessionList,
    SessionRead,
    TokenCreate,
    TokenForm,
    TokenRead,
    TokenRefresh,
    UserRegister,
)
from app.schemas.common import Cursor, Limit
from app.schemas.organizations import my_organization_read, organization_read
from app.schemas.users import UserRead
from app.services import auth, sessions
from app.services.sessions import TokenPair

router = APIRouter(prefix="/auth", tags=["auth"])

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _token_read(pair: TokenPair) -> TokenRead:
    return TokenRead(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        organization_id=pair.organization_id,
    )


def _validate(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**err, "loc": ("body", *err["loc"])} for err in exc.errors(include_input=False)]
        raise RequestValidationError(errors) from None


async def _login_body(request: Request) -> TokenCreate:
    """The OAuth2 password form (`username`, `password`) or JSON (`email`, `password`,
    `organization_id?`), by content type."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in _FORM_TYPES:
        form = await request.form()
        fields = {name: value for name, value in form.items() if isinstance(value, str)}
        parsed: TokenForm = _validate(TokenForm, fields)
        return TokenCreate(email=parsed.username, password=parsed.password, organization_id=parsed.organization_id)
    try:
        payload = await request.json()
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "The body is not valid JSON."}]
        ) from None
    return _validate(TokenCreate, payload)


_TOKEN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": TokenForm.model_json_schema()},
            "application/json": {"schema": TokenCreate.model_json_schema()},
        },
    }
}

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "`invalid_credentials` — the same for unknown email, wrong password, inactive account"},
    429: {"description": "`too_many_requests` with `Retry-After` — whatever the password"},
    503: {"description": "`server_busy` with `Retry-After` — too many logins waiting for password hashing"},
}


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=RegistrationRead)
async def register(body: UserRegister, db: SessionDep, settings: SettingsDep, clock: ClockDep) -> RegistrationRead:
    """Create an account (and optionally its first organization, with you as owner)."""
    result = await auth.register(
        db,
        settings,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        organization_name=body.organization_name,
        now=clock.now(),
        invitation_token=body.invitation_token,
    )
    return RegistrationRead(
        user=UserRead.of(result.user, with_email=True),
        organization=organization_read(result.organization) if result.organization else None,
    )


@router.post("/token", response_model=TokenRead, openapi_extra=_TOKEN_BODY, responses=_ERRORS)
async def log_in(
    request: Request, transactions: TransactionsDep, settings: SettingsDep, clock: ClockDep, client: ClientDep
) -> Any:
    """Log in with the OAuth2 password form or JSON; optionally straight into an organization."""
    body = await _login_body(request)
    outcome = await auth.login(
        transactions,
        settings,
        email=body.email,
        password=body.password,
        organization_id=body.organization_id,
        client=client,
        now=clock.now(),
    )
    return _token_read(outcome)


@router.post("/refresh", response_model=TokenRead)
async def refresh(body: TokenRefresh, db: SessionDep, settings: SettingsDep, clock: ClockDep) -> Any:
    """Trade the refresh token for a new pair (the old refresh token is then used up)."""
    outcome = await sessions.refresh(db, settings, refresh_token=body.refresh_token, now=clock.now())
    return _token_read(outcome)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    db: SessionDep, settings: SettingsDep, clock: ClockDep, token: BearerToken, body: LogoutBody | None = None
) -> Response:
    """End the session of the Bearer access token — or of `refresh_token` when given."""
    await sessions.logout(
        db, settings, access_token=token, refresh_token=body.refresh_token if body else None, now=clock.now()
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/switch-organization", response_model=TokenRead | AccessTokenRead)
async def switch_organization(
    body: OrganizationSwitch, principal: CurrentPrincipal, db: SessionDep, settings: SettingsDep, clock: ClockDep
) -> Any:
    """Carry this organization: with `refresh_token`, that token is rotated and a new pair comes
    back; with the access token alone, only a new access token (never a refresh token)."""
    outcome = await sessions.switch_organization(
        db,
        settings,
        principal=principal,
        organization_id=body.organization_id,
        refresh_token=body.refresh_token,
        now=clock.now(),
    )
    if isinstance(outcome, sessions.AccessToken):
        return AccessTokenRead(
            access_token=outcome.access_token, expires_in=outcome.expires_in, organization_id=outcome.organization_id
        )
    return _token_read(outcome)


@router.get("/me", response_model=MeRead)
async def me(principal: CurrentUser, db: SessionDep) -> MeRead:
    """Who you are, your active organization and your organizations with your role."""
    result = await auth.me(db, principal=principal)
    return MeRead(
        user=UserRead.of(result.user, with_email=True),
        status=result.user.status,
        is_platform_admin=result.user.is_platform_admin,
        session_id=result.session_id,
        active_organization=my_organization_read(result.active_organization) if result.active_organization else None,
        memberships=[my_organization_read(m) for m in result.memberships],
    )


@router.get("/sessions", response_model=SessionList)
async def list_sessions(
    principal: CurrentPrincipal,
    db: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> SessionList:
    """Your live sessions, newest first."""
    page = await sessions.list_sessions(
        db, settings, principal=principal, before=cursors.SESSIONS.decode(cursor), limit=limit, now=clock.now()
    )
    return SessionList(
        items=[
            SessionRead(
                id=s.id,
                created_at=s.created_at,
                last_used_at=s.last_used_at,
                user_agent=s.user_agent,
                current=s.id == principal.session_id,
            )
            for s in page.items
        ],
        next_cursor=cursors.SESSIONS.encode(page.items[-1].created_at, page.items[-1].id) if page.more else None,
    )


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_session(
    session_id: uuid.UUID, principal: CurrentPrincipal, db: SessionDep, clock: ClockDep
) -> Response:
    """End one of your sessions (its refresh and access tokens stop working)."""
    await sessions.revoke_own_session(db, principal=principal, session_id=session_id, now=clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
