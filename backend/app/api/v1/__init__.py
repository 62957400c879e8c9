"""Version 1 of the HTTP API: every router is mounted here under /api/v1."""

from fastapi import APIRouter, Depends

from app.api.deps import refuse_api_key
from app.api.v1 import api_keys, auth, email, health, invitations, organizations, users

# User routes refuse API keys (403 api_key_not_allowed) even where no authentication is needed;
# `/organizations` list and create refuse them through `get_current_principal`.
user_routes = [Depends(refuse_api_key)]

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(organizations.router)
api_router.include_router(invitations.org_router)
api_router.include_router(api_keys.router)
api_router.include_router(auth.router, dependencies=user_routes)
api_router.include_router(users.router, dependencies=user_routes)
api_router.include_router(email.router, dependencies=user_routes)
api_router.include_router(invitations.router, dependencies=user_routes)
