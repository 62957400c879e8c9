"""Password hashing (argon2id, off the event loop) and tokens (JWT access, opaque refresh)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import secrets
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import jwt
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.core.config import MIN_JWT_KEY_BYTES, Settings
from app.core.errors import ServerBusy

ACCESS_TOKEN_TYPE = "access"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "sid", "org", "iat", "nbf", "exp", "jti", "typ")

T = TypeVar("T")


# ---------------------------------------------------------------- passwords


class HashParameters(Protocol):
    """The argon2id settings a `Passwords` needs (a `Settings` has them)."""

    @property
    def argon2_memory_kib(self) -> int: ...
    @property
    def argon2_time_cost(self) -> int: ...
    @property
    def argon2_parallelism(self) -> int: ...
    @property
    def password_hash_workers(self) -> int: ...
    @property
    def password_hash_queue(self) -> int: ...


HASH_THREAD_NICENESS = 10  # how far below the event loop's CPU priority the hash threads run


def _below_the_event_loop() -> None:
    """Lower this hash thread's CPU priority (Linux schedules threads one by one; raising one's own
    niceness needs no privilege). During a login flood argon2 saturates the cores; at equal
    priority the event loop got an equal share at best, so every other request waited behind
    the hashes. Where the call is not supported the thread keeps the process's priority."""
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + HASH_THREAD_NICENESS))


class Passwords:
    """argon2id with the configured parameters; hashing and verifying run in a bounded thread pool.

    `admission()` bounds the requests that may be hashing or waiting to hash at once (workers +
    queue); the next one is refused at once with 503 `server_busy` instead of waiting behind
    hundreds of others. Callers hold no database connection while they wait (see `auth.login`).
    """

    def __init__(self, settings: HashParameters) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._pool = ThreadPoolExecutor(
            max_workers=settings.password_hash_workers, thread_name_prefix="argon2", initializer=_below_the_event_loop
        )
        # Verified against when the email is unknown, so timing does not tell. Made lazily in the
        # pool: hashing here would block the event loop of whoever builds the first instance.
        self._dummy_hash: str | None = None
        self.capacity = settings.password_hash_workers + settings.password_hash_queue
        self.admitted = 0

    @contextlib.asynccontextmanager
    async def admission(self) -> AsyncIterator[None]:
        """Hold a place among the `capacity` requests allowed to hash; ServerBusy (503) when full."""
        if self.admitted >= self.capacity:
            raise ServerBusy(retry_after=1)
        self.admitted += 1
        try:
            yield
        finally:
            self.admitted -= 1

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; with no hash, a dummy verification of equal cost, False."""
        if password_hash is None and self._dummy_hash is None:
            self._dummy_hash = await self._run(self._hasher.hash, secrets.token_urlsafe(16))
        target = password_hash or self._dummy_hash
        assert target is not None
        ok = await self._run(self._verify, target, password)
        return ok and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters (or is not argon2id): rehash it."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True


@dataclass(frozen=True, slots=True)
class _Params:
    argon2_memory_kib: int
    argon2_time_cost: int
    argon2_parallelism: int
    password_hash_workers: int
    password_hash_queue: int


@lru_cache(maxsize=8)
def _passwords_for(params: _Params) -> Passwords:
    # Built from the parameters alone: constructing a Settings here would re-read the environment.
    return Passwords(params)


def passwords(settings: HashParameters) -> Passwords:
    """The process-wide hasher for these settings' parameters (one thread pool per process)."""
    return _passwords_for(
        _Params(
            settings.argon2_memory_kib,
            settings.argon2_time_cost,
            settings.argon2_parallelism,
            settings.password_hash_workers,
            settings.password_hash_queue,
        )
    )


# ---------------------------------------------------------------- tokens


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    organization_id: uuid.UUID | None
    expires_at: datetime


class InvalidToken(Exception):
    """The token is malformed, forged, expired or of the wrong type."""


_KEYS: dict[tuple[str | None, Path], str] = {}


def _key(settings: Settings) -> str:
    # Outside production the key lives in a file; read it once, not on every request.
    cache_key = (settings.jwt_secret_key, settings.tenancy_data_dir)
    key = _KEYS.get(cache_key)
    if key is None:
        key = settings.signing_key()
        if len(key.encode()) < MIN_JWT_KEY_BYTES:
            raise InvalidToken("signing key too short")
        _KEYS[cache_key] = key
    return key


def encode_access_token(
    settings: Settings, *, user_id: uuid.UUID, session_id: uuid.UUID, organization_id: uuid.UUID | None, now: datetime
) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    lifetime = timedelta(minutes=settings.access_token_minutes)
    issued = int(now.timestamp())
    payload = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "sid": str(session_id),
        # `org` is required like every claim; "" means no active organization.
        "org": str(organization_id) if organization_id else "",
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(lifetime.total_seconds()),
        "jti": uuid.uuid4().hex,
        "typ": ACCESS_TOKEN_TYPE,
    }
    token = jwt.encode(payload, _key(settings), algorithm=settings.jwt_algorithm)
    return token, int(lifetime.total_seconds())


def decode_access_token(settings: Settings, token: str, *, now: datetime) -> AccessClaims:
    """Verify signature (pinned algorithm), issuer, audience, every claim, `typ`, and times.

    Times are checked against the injected clock rather than PyJWT's wall clock.
    """
    claims, times = _decode(settings, token)
    _check_times(times, now)
    return claims


def _decode(settings: Settings, token: str) -> tuple[AccessClaims, tuple[int, int, int]]:
    """Everything but the clock: the claims and their (exp, nbf, iat)."""
    try:
        claims = jwt.decode(
            token,
            _key(settings),
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": list(REQUIRED_CLAIMS), "verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
        if claims.get("typ") != ACCESS_TOKEN_TYPE:
            raise InvalidToken("not an access token")
        exp, nbf, iat = (claims["exp"], claims["nbf"], claims["iat"])
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (exp, nbf, iat)):
            raise InvalidToken("bad time claims")
        # A validly signed token that lives longer than we issue them (a leaked key, an old
        # configuration, a forged `exp` of 10**20) is refused: RFC 8725 §3.10 asks to validate
        # every claim against what the issuer actually does.
        if exp - iat > settings.access_token_minutes * 60 or nbf < iat:
            raise InvalidToken("lifetime longer than the configured one")
        org = claims["org"]
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            session_id=uuid.UUID(claims["sid"]),
            organization_id=uuid.UUID(org) if org else None,
            expires_at=datetime.fromtimestamp(exp, tz=UTC),
        ), (exp, nbf, iat)
    except InvalidToken:
        raise
    except (jwt.PyJWTError, ValueError, TypeError, AttributeError, KeyError, OverflowError, OSError) as exc:
        raise InvalidToken(str(exc)) from exc


def _check_times(times: tuple[int, int, int], now: datetime) -> None:
    exp, nbf, iat = times
    stamp = now.timestamp()
    if stamp >= exp or stamp < nbf or iat > stamp + 60:
        raise InvalidToken("expired or not yet valid")


# Verified access tokens by their exact string. A token is verified once — signature, issuer,
# audience, claims, lifetime cap — and each later use re-checks its times against the clock
# (`exp`, `nbf`, `iat`), so an expired token is refused exactly as before. The session, the user and
# their standing are still read from the database on every request (`services/sessions.py`, `authenticate`); this
# saves the HMAC and the JSON parsing. Keyed by the settings that verification depends on too.
# Bounded: emptied when full (a full cache means ~4,000 distinct live tokens in this process).
_VERIFIED_MAX = 4096
_verified: dict[tuple[object, ...], tuple[AccessClaims, tuple[int, int, int]]] = {}


def verify_access_token(settings: Settings, token: str, *, now: datetime) -> AccessClaims:
    """`decode_access_token`, remembering tokens that verified (their times are checked every time)."""
    cache_key = (
        token,
        _key(settings),
        settings.jwt_algorithm,
        settings.jwt_audience,
        settings.jwt_issuer,
        settings.access_token_minutes,
    )
    found = _verified.get(cache_key)
    if found is None:
        found = _decode(settings, token)
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()
        _verified[cache_key] = found
    _check_times(found[1], now)
    return found[0]


def new_refresh_token() -> tuple[str, str]:
    """An opaque refresh token and the hash we store (only the hash is ever stored)."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_hash(settings: Settings, purpose: str, value: str) -> str:
    """HMAC-SHA256 of `value` under a key derived from the signing key, separated by `purpose`.

    For values we must recognise again but should not keep readable (emails typed at login).
    Rotating the signing key changes every keyed hash (the throttling history then restarts).
    """
    derived = hmac.new(_key(settings).encode(), f"tenancy:{purpose}".encode(), hashlib.sha256).digest()
    return hmac.new(derived, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
