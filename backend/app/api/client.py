"""Where a request comes from: the client address (for per-address throttling and the session
record) and the user agent (shown in the sessions list).

The address is the transport peer (`request.client.host`). Behind a reverse proxy run uvicorn with
`--proxy-headers --forwarded-allow-ips=<proxy>` so it is the real client's, not the proxy's.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import Depends, Request

from app.services.users import ClientInfo

MAX_USER_AGENT = 512


async def client_info(request: Request) -> ClientInfo:  # async: no thread-pool hop
    host = request.client.host if request.client else None
    try:
        address = str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        address = None  # e.g. a unix socket peer: no per-address throttling possible
    agent = request.headers.get("user-agent")
    return ClientInfo(ip_address=address, user_agent=agent[:MAX_USER_AGENT] if agent else None)


ClientDep = Annotated[ClientInfo, Depends(client_info)]
