"""Request pools: raw HTTP/1.1 requests built in Python before a round, which the load generator
(wrk with ``bench/wrk_pool.lua``, or ``bench/loadgen.py --pool``) sends in order, one per
request, over all its connections.

A pool is how a request that needs per-request cryptography gets to wrk, whose Lua has no
HMAC: every signed webhook is built here, just before the round that sends it, with its own
``webhook-id`` and a current ``webhook-timestamp`` (well inside the 5-minute tolerance), so
the server verifies a fresh signature on every request and never sees a replay. Signing is
done before the clock starts, so it cannot limit the client; ``Pool.build_s`` says what it
cost.

The file holds one record per request: the length in bytes on a line, then the raw request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import orjson

WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105  (the format's prefix, not a secret)


@dataclass(frozen=True)
class Pool:
    path: Path
    url: str
    count: int
    build_s: float

    @property
    def build_us_per_request(self) -> float:
        return 1e6 * self.build_s / self.count if self.count else 0.0


def raw_request(
    method: str, url: str, *, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def write(path: Path, url: str, requests: Iterable[bytes]) -> Pool:
    """Write ``requests`` as a pool file; the time taken includes building them (signing)."""
    started = time.perf_counter()
    count = 0
    with path.open("wb") as out:
        for raw in requests:
            out.write(b"%d\n" % len(raw))
            out.write(raw)
            count += 1
    if not count:
        raise ValueError("an empty pool")
    return Pool(path=path, url=url, count=count, build_s=time.perf_counter() - started)


def read(path: Path) -> list[bytes]:
    data = path.read_bytes()
    records: list[bytes] = []
    at = 0
    while at < len(data):
        newline = data.index(b"\n", at)
        length = int(data[at:newline])
        start = newline + 1
        records.append(data[start : start + length])
        at = start + length
    return records


# -- Standard Webhooks ---------------------------------------------------------------------


def new_webhook_secret() -> str:
    """A ``whsec_`` secret (base64 of 32 random bytes), generated per run and never stored."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret: its base64-decoded part."""
    encoded = secret.removeprefix(WEBHOOK_SECRET_PREFIX)
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4))


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,`` and the base64 HMAC-SHA256 of
    ``{id}.{timestamp}.{body}``."""
    digest = hmac.new(key, b"%s.%d.%s" % (webhook_id.encode(), timestamp, body), hashlib.sha256)
    return "v1," + base64.b64encode(digest.digest()).decode()


def signed_headers(
    key: bytes, webhook_id: str, body: bytes, *, now: int | None = None
) -> dict[str, str]:
    timestamp = int(time.time()) if now is None else now
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(key, webhook_id, timestamp, body),
    }


AI_INTERVIEW_TYPES = ("invited", "opened", "started")


def webhook_requests(
    url: str,
    *,
    secret: str,
    application_ids: list[str],
    start: int,
    count: int,
    id_prefix: str,
) -> Iterable[bytes]:
    """``count`` signed AI-interview deliveries, numbered from ``start`` (so pools of several
    rounds never repeat a ``webhook-id``). Delivery ``n`` is for application
    ``n % len(application_ids)``; its type moves from invited to opened to started as the
    numbering wraps round the applications, as a vendor's deliveries would."""
    key = secret_key(secret)
    apps = len(application_ids)
    for n in range(start, start + count):
        index = n % apps
        now = int(time.time())
        body = orjson.dumps(
            {
                "type": AI_INTERVIEW_TYPES[min(n // apps, len(AI_INTERVIEW_TYPES) - 1)],
                "application_id": application_ids[index],
                "interview_id": f"iv-{index}",
                "occurred_at": datetime.fromtimestamp(now, UTC).isoformat(),
            }
        )
        yield raw_request(
            "POST", url, headers=signed_headers(key, f"{id_prefix}-{n}", body, now=now), body=body
        )


def floor_requests(url: str, *, start: int, count: int, prefix: str) -> Iterable[bytes]:
    """The floor's POSTs: a new candidate each, with webhook-shaped headers (which the floor
    ignores) so both servers read requests of about the same size."""
    filler = "v1," + base64.b64encode(bytes(32)).decode()
    for n in range(start, start + count):
        body = orjson.dumps(
            {"candidate": {"full_name": "Bench Candidate", "email": f"{prefix}-{n}@example.com"}}
        )
        headers = {
            "webhook-id": f"{prefix}-{n}",
            "webhook-timestamp": str(int(time.time())),
            "webhook-signature": filler,
        }
        yield raw_request("POST", url, headers=headers, body=body)
