"""Settings, read from the environment and `.env` (see `.env.sample` for every variable)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_JWT_KEY_BYTES = 32
_WEAK_SECRETS = {"changeme", "secret", "change-me", "changethis", "jwt-secret"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str | None = None
    tenancy_data_dir: Path = Path(".tenancy")

    jwt_secret_key: str | None = None
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "tenancy"
    jwt_audience: str = "tenancy-api"
    access_token_minutes: int = Field(15, ge=1, le=24 * 60)
    session_idle_minutes: int = Field(60 * 24 * 7, ge=1)
    session_absolute_days: int = Field(30, ge=1)

    argon2_memory_kib: int = Field(19 * 1024, ge=19 * 1024)
    argon2_time_cost: int = Field(2, ge=2)
    argon2_parallelism: int = Field(1, ge=1)
    password_hash_workers: int = Field(4, ge=1, le=64)

    login_max_failures: int = Field(5, ge=1)
    login_lockout_seconds: int = Field(60, ge=1)
    login_ip_rate_per_minute: int = Field(30, ge=0)

    cors_origins: list[str] = []
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    db_pool_size: int = Field(10, ge=1)

    @model_validator(mode="after")
    def _secret_is_strong_in_production(self) -> Settings:
        if self.environment == "production":
            key = self.jwt_secret_key
            if not key or len(key.encode()) < MIN_JWT_KEY_BYTES or key.lower() in _WEAK_SECRETS:
                raise ValueError(
                    f"JWT_SECRET_KEY must be set to at least {MIN_JWT_KEY_BYTES} random bytes "
                    "when ENVIRONMENT=production"
                )
        if "*" in self.cors_origins:
            raise ValueError("CORS_ORIGINS may not contain '*': list the origins explicitly")
        return self

    @property
    def data_dir(self) -> Path:
        return self.tenancy_data_dir.expanduser().resolve()

    def signing_key(self) -> str:
        """The JWT key: configured, or (outside production) generated once into the data dir."""
        if self.jwt_secret_key:
            if len(self.jwt_secret_key.encode()) < MIN_JWT_KEY_BYTES:
                raise ValueError(f"JWT_SECRET_KEY must be at least {MIN_JWT_KEY_BYTES} bytes")
            return self.jwt_secret_key
        path = self.data_dir / "jwt_secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
