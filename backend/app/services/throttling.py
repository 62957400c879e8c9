"""Login throttling, per account and per client address, read from the `login_attempts` table.

The table is the only state, so every worker process (and every replica on the same database)
sees the same counts. Throttling is checked *before* the password is verified: a throttled
request gets 429 + Retry-After whatever the password, so a locked account is no password oracle.
Throttled requests are not recorded (they were not attempts at the password), which also keeps a
flood from growing the table.

Per account (the normalized email, known or not — unknown emails are counted the same way):
the *failure streak* is the account's failed attempts since its last success, ignoring those older
than FAILURE_MEMORY. Every LOGIN_MAX_FAILURES failures in the streak earn a lockout; the k-th one
lasts LOGIN_LOCKOUT_SECONDS · 2^(k-1) (capped at MAX_LOCKOUT) from the failure that earned it.
So after a lockout the account gets LOGIN_MAX_FAILURES more tries, then twice the wait: a
guesser gets about LOGIN_MAX_FAILURES · log2(elapsed / LOGIN_LOCKOUT_SECONDS) guesses.

Per address: at most LOGIN_IP_RATE_PER_MINUTE attempts in any sliding 60 seconds (0: off).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import TooManyRequests
from app.repositories import login_attempts as attempts_repo

FAILURE_MEMORY = timedelta(days=1)
MAX_LOCKOUT = timedelta(days=1)
ADDRESS_WINDOW = timedelta(minutes=1)
# The streak is bounded by the lockouts (a few dozen failures a day); this only caps a runaway read.
_SCAN_LIMIT = 1000


def lockout_length(settings: Settings, lockouts: int) -> timedelta:
    """How long the `lockouts`-th lockout (1-based) of one account lasts."""
    doubling = min(lockouts - 1, 20)
    return min(timedelta(seconds=settings.login_lockout_seconds * 2**doubling), MAX_LOCKOUT)


def _retry_after(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


async def check_login_allowed(
    db: AsyncSession, settings: Settings, *, account_key: str, ip_address: str | None, now: datetime
) -> None:
    """Raise TooManyRequests (429, Retry-After) when the address or the account is throttled."""
    rate = settings.login_ip_rate_per_minute
    if rate > 0 and ip_address is not None:
        nth = await attempts_repo.nth_latest_from_address(db, ip_address, since=now - ADDRESS_WINDOW, n=rate)
        if nth is not None:
            raise TooManyRequests(_retry_after(nth + ADDRESS_WINDOW, now))

    recent = await attempts_repo.recent_attempts(db, account_key, since=now - FAILURE_MEMORY, limit=_SCAN_LIMIT)
    failures: list[datetime] = []  # newest first
    for attempt in recent:
        if attempt.succeeded:
            break
        failures.append(attempt.occurred_at)
    lockouts = len(failures) // settings.login_max_failures
    if lockouts:
        earned_at = failures[len(failures) - lockouts * settings.login_max_failures]
        until = earned_at + lockout_length(settings, lockouts)
        if now < until:
            raise TooManyRequests(_retry_after(until, now))


async def record_attempt(
    db: AsyncSession, *, account_key: str, ip_address: str | None, succeeded: bool, now: datetime
) -> None:
    await attempts_repo.record_attempt(db, account_key=account_key, ip_address=ip_address, succeeded=succeeded, at=now)


async def serialize_attempts(db: AsyncSession, account_key: str) -> None:
    """Hold the account's attempt lock for the rest of the transaction (exact counts under load)."""
    await attempts_repo.lock_account(db, account_key)
