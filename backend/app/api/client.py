"""Where a request comes from: the client address (per-address throttling, the session record)
and the user agent (shown in the sessions list). The one place that reads forwarded headers.

The address is the transport peer, unless that peer is one of `TRUSTED_PROXIES` (addresses or
networks): then `X-Forwarded-For` is read from the right — each trusted hop appended the address
it saw — and the first address that is not a trusted proxy is the client. Anything a client
wrote further left is ignored, and so is the header from any peer that is not trusted. uvicorn
is run with its own proxy-header handling off (`tenancy serve`), so it cannot pre-empt this.

An address is never "unknown": an unparseable peer (a unix socket, a test transport) counts as
`UNKNOWN_PEER`, one shared budget; an unparseable forwarded entry stops the walk at the last
address known good (a trusted proxy's own). Per-address throttling can therefore not be switched
off by sending `X-Forwarded-For: garbage`.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request

from app.services.users import ClientInfo

MAX_USER_AGENT = 512
MAX_FORWARDED_HOPS = 32
# What an unparseable transport peer counts as (the unspecified address: no real client has it).
UNKNOWN_PEER = "0.0.0.0"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=16)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _parse(raw: str | None) -> Address | None:
    if not raw:
        return None
    raw = raw.strip()
    if raw.startswith("[") and "]" in raw:  # "[2001:db8::1]:443"
        raw = raw[1 : raw.index("]")]
    elif raw.count(":") == 1:  # "192.0.2.1:443"
        raw = raw.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_address(peer: str | None, forwarded_for: list[str], trusted_proxies: tuple[str, ...]) -> str:
    """The client's address (see the module docstring); never None."""
    address = _parse(peer)
    if address is None:
        return UNKNOWN_PEER
    networks = _networks(trusted_proxies)
    if not networks or not _trusted(address, networks):
        return str(address)
    hops = [hop for header in forwarded_for for hop in header.split(",")][-MAX_FORWARDED_HOPS:]
    for hop in reversed(hops):
        parsed = _parse(hop)
        if parsed is None:
            break  # garbage: nothing left of it can be believed; keep the last good address
        address = parsed
        if not _trusted(parsed, networks):
            break
    return str(address)


async def client_info(request: Request) -> ClientInfo:  # async: no thread-pool hop
    settings = request.app.state.settings
    address = client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        tuple(settings.trusted_proxies),
    )
    agent = request.headers.get("user-agent")
    return ClientInfo(ip_address=address, user_agent=agent[:MAX_USER_AGENT] if agent else None)


ClientDep = Annotated[ClientInfo, Depends(client_info)]
