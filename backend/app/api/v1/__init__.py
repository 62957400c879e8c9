"""Version 1 of the HTTP API: every router is mounted here under /api/v1."""

from fastapi import APIRouter

from app.api.v1 import auth, health, organizations, users

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(organizations.router)
api_router.include_router(auth.router)
api_router.include_router(users.router)
