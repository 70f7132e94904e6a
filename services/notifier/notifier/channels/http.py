"""What the HTTP channels (SMS gateway, chat robots, outgoing webhooks) share: one connection
pool, requests bounded in time and in the size of the answer read, and the classification of
what can go wrong on the way there.

Redirects are never followed (a 3xx could send a signed body, or our token, somewhere that was
never checked), and proxies from the environment are ignored (the address checks of
``endpoints/addresses.py`` would be meaningless if a proxy made the connection).
"""

from __future__ import annotations

import asyncio
import math
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from notifier.channels.base import SendResult
from notifier.endpoints.addresses import AddressRefused, check_resolved, check_url

USER_AGENT = "recruiting-notifier/1"
# A provider that asks us to wait longer than this is waited for this long: the dispatcher's
# own backoff takes over after.
MAX_RETRY_AFTER_S = 24 * 3600.0
# What a channel answers once closed (the process is shutting down): try again later.
CLOSED = SendResult("retry", reason="The channel is shutting down.")


def new_client() -> httpx.AsyncClient:
    """The client every HTTP channel uses; per-request timeouts come from each channel."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
    )


class SharedHttpClient:
    """One ``httpx.AsyncClient`` used by several channels, so they reuse connections; it is
    closed when the last channel that took it is closed."""

    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self.client = client if client is not None else new_client()
        self._users = 0

    def acquire(self) -> httpx.AsyncClient:
        self._users += 1
        return self.client

    async def release(self) -> None:
        self._users -= 1
        if self._users <= 0 and not self.client.is_closed:
            await self.client.aclose()


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: httpx.Headers
    # At most the channel's limit: a provider cannot make us read an endless body.
    body: bytes


async def post(
    client: httpx.AsyncClient,
    url: str | httpx.URL,
    *,
    content: bytes,
    headers: dict[str, str],
    timeout_s: float,
    max_body: int = 64 * 1024,
) -> HttpAnswer:
    """POST ``content`` and read at most ``max_body`` bytes of the answer, all within
    ``timeout_s`` (httpx's own timeouts are per phase; a slowly dripping answer is cut here).
    Raises ``TimeoutError``, ``httpx.HTTPError`` or ``httpx.InvalidURL``: see
    ``transport_failure``."""
    async with (
        asyncio.timeout(timeout_s),
        client.stream(
            "POST",
            url,
            content=content,
            headers=headers,
            timeout=timeout_s,
            follow_redirects=False,
        ) as response,
    ):
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) >= max_body:
                break
        return HttpAnswer(response.status_code, response.headers, bytes(body[:max_body]))


def transport_failure(error: Exception) -> SendResult:
    """How a request that got no answer went: a timeout or a broken connection is worth
    another try; a URL that httpx cannot use is not."""
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        return SendResult("retry", reason="The request timed out.")
    if isinstance(error, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return SendResult("failed", reason="The URL cannot be used.")
    if isinstance(error, httpx.ConnectError):
        return SendResult("retry", reason="The connection could not be made.")
    return SendResult("retry", reason=f"The request failed ({type(error).__name__}).")


REQUEST_ERRORS: tuple[type[Exception], ...] = (TimeoutError, httpx.HTTPError, httpx.InvalidURL)


def retry_after_s(headers: httpx.Headers, *, now: datetime | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds (it may be a number of seconds
    or an HTTP date), or None when there is none or it cannot be read."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def is_retryable_status(status: int) -> bool:
    """429 (slow down), 408 (the provider timed out reading us) and every 5xx."""
    return status in (408, 429) or status >= 500


async def refusal(url: str, *, allow_private: bool, require_https: bool) -> SendResult | None:
    """None when a request to ``url`` may go now; else why not. Checked before every request,
    on the URL and on the addresses its host resolves to now (a DNS name can be repointed
    at our network after the URL was accepted). A host that does not resolve at all is a
    ``retry`` (DNS can be down for a while); any other refusal is ``failed``."""
    try:
        host = check_url(url, allow_private=allow_private, require_https=require_https)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except AddressRefused as refused:
        return SendResult("failed", reason=str(refused))
    except ValueError:
        return SendResult("failed", reason="The URL cannot be used.")
    try:
        await check_resolved(host, port, allow_private=allow_private)
    except AddressRefused as refused:
        if not await _resolves(host, port):
            return SendResult("retry", reason="The host does not resolve.")
        return SendResult("failed", reason=str(refused))
    except UnicodeError:
        # A host name that cannot be encoded for DNS (a label over 63 characters, ...).
        return SendResult("failed", reason="The host name is not valid.")
    return None


async def _resolves(host: str, port: int) -> bool:
    try:
        await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return False
    return True
