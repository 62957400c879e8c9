"""Dependency aliases: the database session, settings, clock and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.config import Settings
from app.core.database import get_db
from app.core.errors import NotAuthenticated
from app.repositories.sessions import Principal
from app.services.principal import authenticate

# tokenUrl makes Swagger UI's "Authorize" button log in with the password form.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


SessionDep = Annotated[AsyncSession, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ClockDep = Annotated[Clock, Depends(get_clock)]
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


async def get_current_principal(
    db: SessionDep, settings: SettingsDep, clock: ClockDep, token: BearerToken
) -> Principal:
    """The caller of a request that is not scoped to one organization (one query)."""
    if not token:
        raise NotAuthenticated()
    return await authenticate(db, settings, token=token, now=clock.now())


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]
