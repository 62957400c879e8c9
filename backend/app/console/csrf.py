"""CSRF defence for the console's cookie-carrying endpoints (`/console/api/session…`).

A cross-site page can make the browser send our cookie, but it cannot:
- set a custom request header without a CORS preflight that this service never grants for it
  (`X-Tenancy-Console`), and
- forge `Origin` (browsers set it on every POST) or `Sec-Fetch-Site`.

So every such request must carry the header, an `Origin` whose host is the one the request was
sent to, and — when the browser sends it — `Sec-Fetch-Site: same-origin`. `SameSite=Strict` on the
cookie is a third, independent layer.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from app.domain.errors import CrossSiteRequest

CSRF_HEADER = "x-tenancy-console"


def same_origin(request: Request) -> bool:
    """True when the request carries the console header and comes from a page of this host."""
    if request.headers.get(CSRF_HEADER) != "1":
        return False
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site != "same-origin":
        return False
    origin = request.headers.get("origin")
    host = request.headers.get("host")
    if not origin or not host or origin == "null":
        return False
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower() and not parts.path


async def require_same_origin(request: Request) -> None:
    """Dependency of every console endpoint: 403 `csrf_rejected` otherwise."""
    if not same_origin(request):
        raise CrossSiteRequest()
