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

Budgets hold under parallel bursts: `admit_attempt` takes the address lock, then the account lock
(one order everywhere), counts, and records the attempt in one short transaction, before any
password is checked. The attempt row says `succeeded = false` ("not (yet) a success"); a correct
password appends a `succeeded = true` row afterwards, which ends the failure streak. So the
password can be verified with no lock and no connection held, and a burst of parallel guesses
still sees every earlier guess counted.

Account keys are keyed hashes (HMAC) of the normalized email, never the email itself: the table
would otherwise keep every mistyped or sprayed address forever (it is append-only).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import TooManyRequests
from app.core.security import keyed_hash
from app.repositories import login_attempts as attempts_repo
from app.services.emails import account_key as normalized_login

FAILURE_MEMORY = timedelta(days=1)
MAX_LOCKOUT = timedelta(days=1)
ADDRESS_WINDOW = timedelta(minutes=1)
# The streak is bounded by the lockouts (a few dozen failures a day); this only caps a runaway read.
_SCAN_LIMIT = 1000
_PAGE = 32  # attempts read at a time: an account that logs in often has a success among the first


async def _failure_streak(db: AsyncSession, account_key: str, *, since: datetime) -> list[datetime]:
    """The account's failed attempts since its latest success (and `since`), newest first — read a
    page at a time, not the whole day: a busy account's day holds thousands of logins."""
    failures: list[datetime] = []
    before = None
    while len(failures) < _SCAN_LIMIT:
        page = await attempts_repo.recent_attempts(db, account_key, since=since, limit=_PAGE, before=before)
        for attempt in page:
            if attempt.succeeded:
                return failures
            failures.append(attempt.occurred_at)
        if len(page) < _PAGE:
            return failures
        before = page[-1]
    return failures[:_SCAN_LIMIT]


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

    failures = await _failure_streak(db, account_key, since=now - FAILURE_MEMORY)
    lockouts = len(failures) // settings.login_max_failures
    if lockouts:
        earned_at = failures[len(failures) - lockouts * settings.login_max_failures]
        until = earned_at + lockout_length(settings, lockouts)
        if now < until:
            raise TooManyRequests(_retry_after(until, now))


def throttle_key(settings: Settings, email: str) -> str:
    """The account key of login attempts with this email (typed at login or stored): a keyed hash."""
    return "h:" + keyed_hash(settings, "login-attempt", normalized_login(email))


async def admit_attempt(
    db: AsyncSession, settings: Settings, *, account_key: str, ip_address: str | None, now: datetime
) -> None:
    """Lock, check both budgets (TooManyRequests) and record the attempt — in the caller's (short)
    transaction, before the password is verified."""
    if ip_address is not None:
        await attempts_repo.lock_address(db, ip_address)
    await attempts_repo.lock_account(db, account_key)
    await check_login_allowed(db, settings, account_key=account_key, ip_address=ip_address, now=now)
    await attempts_repo.record_attempt(db, account_key=account_key, ip_address=ip_address, succeeded=False, at=now)


async def record_success(db: AsyncSession, *, account_key: str, ip_address: str | None, now: datetime) -> None:
    """The admitted attempt's password was right (and the account active): the streak ends."""
    await attempts_repo.record_attempt(db, account_key=account_key, ip_address=ip_address, succeeded=True, at=now)
