"""Settings, read from the environment and `.env` (see `.env.sample` for every variable)."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import math
import os
import secrets
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_JWT_KEY_BYTES = 32
MIN_JWT_KEY_ENTROPY_BITS = 128
_WEAK_SECRETS = {"changeme", "secret", "change-me", "changethis", "jwt-secret"}
_LINK_SETTINGS = ("email_verify_url", "password_reset_url", "invitation_url")


def key_weakness(key: str) -> str | None:
    """Why `key` is not fit to sign tokens in production (None: it is).

    Length alone lets `"a" * 32` through. We also refuse a key that is a short pattern repeated
    (`"abcd" * 8`), one with few distinct characters, and one whose character statistics carry
    less than MIN_JWT_KEY_ENTROPY_BITS (an estimate: length × empirical Shannon entropy per
    character; `secrets.token_urlsafe(32)` and `openssl rand -hex 32` give about 200 and 240).
    """
    raw = key.encode()
    if len(raw) < MIN_JWT_KEY_BYTES or key.lower() in _WEAK_SECRETS:
        return f"shorter than {MIN_JWT_KEY_BYTES} bytes or a well-known placeholder"
    for period in range(1, len(key) // 2 + 1):
        if len(key) % period == 0 and key[:period] * (len(key) // period) == key:
            return "a repeated pattern"
    counts = Counter(key)
    if len(counts) < 8:
        return "too few distinct characters"
    bits = -sum(n * math.log2(n / len(key)) for n in counts.values())
    if bits < MIN_JWT_KEY_ENTROPY_BITS:
        return f"too little entropy (about {bits:.0f} bits; at least {MIN_JWT_KEY_ENTROPY_BITS})"
    return None


def _list_setting(value: Any) -> Any:
    """A list setting from the environment: a JSON list (`["a", "b"]`) or comma-separated (`a,b`)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError('expected a JSON list like ["a", "b"] or comma-separated values like a,b') from exc
    return [part.strip() for part in text.split(",") if part.strip()]


# Schemes DATABASE_URL may use; the plain libpq ones (what hosting providers hand out) mean asyncpg.
_DATABASE_SCHEMES = {
    "postgresql+asyncpg": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def normalize_database_url(url: str) -> str:
    """`postgres://…` and `postgresql://…` → `postgresql+asyncpg://…`; anything else is refused."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in _DATABASE_SCHEMES:
        raise ValueError(
            "expected postgresql://user:password@host:port/database (postgres:// and "
            "postgresql+asyncpg:// are accepted too)"
        )
    return f"{_DATABASE_SCHEMES[scheme.lower()]}://{rest}"


def _check_origin(origin: str) -> str:
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"} or parts.query:
        raise ValueError(f"{origin!r} is not an origin: expected scheme://host[:port], e.g. https://app.example.com")
    return f"{parts.scheme}://{parts.netloc}"


ListSetting = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str | None = None
    # The owner's URL for migrations (the service itself runs as DATABASE_URL's less privileged
    # role, see core/roles.py). Unset: DATABASE_URL.
    migration_database_url: str | None = None
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
    # Threads hashing passwords per process (default: the CPU count, argon2 is CPU-bound) and how
    # many hash jobs (logins, registrations, password changes) may wait for one; beyond that the
    # request is answered 503 `server_busy` + Retry-After at once, so a login flood cannot queue
    # up without bound while other requests wait.
    password_hash_workers: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1), ge=1, le=64)
    password_hash_queue: int = Field(32, ge=0)

    login_max_failures: int = Field(5, ge=1)
    login_lockout_seconds: int = Field(60, ge=1)
    login_ip_rate_per_minute: int = Field(30, ge=0)
    # Adds of members by email per caller (user or API key) per sliding hour; 0: no limit.
    member_email_adds_per_hour: int = Field(30, ge=0)

    cors_origins: ListSetting = []
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    # Largest request head (request line and headers) and most headers `tenancy serve` accepts (431).
    max_header_bytes: int = Field(16 * 1024, ge=1024)
    max_header_count: int = Field(100, ge=8)
    db_pool_size: int = Field(16, ge=1)
    # One line per request on stderr (method, route template, status, duration, request id, caller,
    # organization), as text or JSON; uvicorn's own access log is off when this is on.
    log_format: Literal["text", "json"] = "text"
    request_log: bool = True
    # GET /metrics (Prometheus text format), not in the API document.
    metrics_enabled: bool = True
    # Worker processes of `tenancy serve` (its --workers flag wins); each has its own pool.
    web_concurrency: int = Field(1, ge=1, le=64)

    # Swagger UI at /docs: on by default, off by default in production.
    api_docs: bool | None = None
    # `tenancy serve` and friends without DATABASE_URL run the embedded PostgreSQL; production
    # refuses that unless this says it is meant.
    allow_embedded_database: bool = False
    # Proxies whose X-Forwarded-For is believed (addresses or networks); nobody else's.
    trusted_proxies: ListSetting = []
    # The console's refresh-token cookie carries `Secure`: None = when the request came over https
    # or ENVIRONMENT=production; true/false forces it (true behind a TLS-terminating proxy).
    console_secure_cookie: bool | None = None

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _parse_list(cls, value: Any) -> Any:
        return _list_setting(value)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        return normalize_database_url(value) if value else None

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        if "*" in value:
            raise ValueError("may not contain '*': list the origins explicitly")
        return [_check_origin(origin) for origin in value]

    # Mail (SPEC §9). No SMTP_URL: nothing is sent; messages stay in the outbox, are logged with
    # their link, and `tenancy outbox` prints them.
    smtp_url: str | None = None
    mail_from: str = "Tenancy <no-reply@localhost>"
    email_verify_url: str = "http://127.0.0.1:8000/verify-email?token={token}"
    password_reset_url: str = "http://127.0.0.1:8000/reset-password?token={token}"
    invitation_url: str = "http://127.0.0.1:8000/invitations/accept?token={token}"
    email_verify_hours: int = Field(48, ge=1)
    password_reset_minutes: int = Field(30, ge=1)
    invitation_days: int = Field(7, ge=1)
    email_requests_per_hour: int = Field(5, ge=1)
    require_verified_email: bool = False

    @model_validator(mode="after")
    def _secret_is_strong_in_production(self) -> Settings:
        if self.environment == "production":
            key = self.jwt_secret_key
            weakness = key_weakness(key) if key else "not set"
            if weakness:
                raise ValueError(
                    f"JWT_SECRET_KEY must be at least {MIN_JWT_KEY_BYTES} random bytes when ENVIRONMENT=production "
                    f"(this one is {weakness}); e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
                )
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise ValueError(f"TRUSTED_PROXIES: {proxy!r} is not an address or network") from exc
        for name in _LINK_SETTINGS:
            if "{token}" not in getattr(self, name):
                raise ValueError(f"{name.upper()} must contain the {{token}} placeholder")
        if self.smtp_url:
            from app.core.mail import parse_smtp_url

            parse_smtp_url(self.smtp_url)  # refuse a malformed URL at startup, not at the first send
            if self.environment == "production":
                missing = [name.upper() for name in _LINK_SETTINGS if name not in self.model_fields_set]
                if missing:
                    raise ValueError(
                        f"{', '.join(missing)} must be set when SMTP_URL is set and ENVIRONMENT=production "
                        "(the defaults point at a development host)"
                    )
        return self

    @property
    def docs_enabled(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.environment != "production"

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
            _create_key_file(path, secrets.token_urlsafe(48))
        key = path.read_text().strip()
        if len(key.encode()) < MIN_JWT_KEY_BYTES:
            raise ValueError(f"{path} holds no usable key (delete it to have a new one generated)")
        return key


def write_secret_file(path: Path, key: str) -> None:
    """Public name of `_create_key_file` (other generated secrets use it too)."""
    _create_key_file(path, key)


def _create_key_file(path: Path, key: str) -> None:
    """Write `key` to `path` atomically, mode 0600, unless another process got there first.

    The key goes to a private temporary file that is then hard-linked into place: the link either
    creates `path` with its whole content or fails because `path` exists (then that key wins, so
    every process of one data directory signs with the same key). No reader ever sees an empty or
    half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@lru_cache
def get_settings() -> Settings:
    return Settings()
