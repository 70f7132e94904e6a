"""Where outgoing requests may go: never to loopback, private, link-local or otherwise
non-public addresses unless configuration allows it (a customer's webhook URL must not reach
our own network), checked when an endpoint is saved and again, on the resolved addresses,
before every request."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class AddressRefused(ValueError):
    """The URL is not allowed; the message says why, in words for the API's caller."""


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def check_url(url: str, *, allow_private: bool, require_https: bool) -> str:
    """The URL's host, if the URL is well formed and its scheme allowed; an IP literal must be
    public unless ``allow_private``. Raises ``AddressRefused``."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise AddressRefused("The URL must be an absolute http(s) URL.")
    if require_https and parts.scheme != "https":
        raise AddressRefused("The URL must use https.")
    if parts.username or parts.password:
        raise AddressRefused("The URL must not carry a user name or password.")
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        if not allow_private and host.rstrip(".").lower() in ("localhost", "localhost.localdomain"):
            raise AddressRefused("The URL points at this machine (localhost).") from None
        return host
    if not allow_private and not _is_public(literal):
        raise AddressRefused(f"The URL points at a non-public address ({literal}).")
    return host


async def check_resolved(host: str, port: int, *, allow_private: bool) -> None:
    """Before a request: every address the host resolves to must be public (so a DNS name
    cannot be pointed at our network after the URL was accepted)."""
    if allow_private:
        return
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise AddressRefused(f"The host does not resolve ({error.strerror}).") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not _is_public(address):
            raise AddressRefused(f"The host resolves to a non-public address ({address}).")
