"""``Idempotency-Key`` for creating POSTs.

The key row is written in the same transaction as the resource it creates, together with the
response, so a retry after a lost answer gets the first answer back and never a second resource.
A concurrent request with the same key waits on the key's row lock and then replays. The same
key with another body (or on another route) is refused with 422.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from starlette.responses import Response

from shared.problems import Problem
from shared.unit import UnitOfWork

_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
REPLAY_HEADER = "idempotent-replayed"
_KEPT_HEADERS = ("location", "content-type", "etag")


class Idempotency:
    def __init__(
        self,
        *,
        table: sa.Table,
        key: str | None,
        principal: str,
        method: str,
        path: str,
        body: bytes,
        retention: timedelta,
    ) -> None:
        self._table = table
        self.key = key
        self._principal = principal
        self._method = method
        self._path = path
        # Only a request with a key is ever compared; the rest need no hash.
        self._hash = (
            hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).digest()
            if key is not None
            else b""
        )
        self._retention = retention

    async def run(self, unit: UnitOfWork, produce: Callable[[], Awaitable[Response]]) -> Response:
        """Produce the response once per key; replay it for later requests with the same key."""
        if self.key is None:
            return await produce()
        t = self._table
        now = unit.clock.now()
        insert = pg_insert(t).values(
            principal=self._principal,
            key=self.key,
            request_method=self._method,
            request_path=self._path,
            request_hash=self._hash,
            expires_at=now + self._retention,
        )
        claimed = await unit.session.execute(
            insert.on_conflict_do_update(
                index_elements=[t.c.principal, t.c.key],
                set_={
                    "request_method": insert.excluded.request_method,
                    "request_path": insert.excluded.request_path,
                    "request_hash": insert.excluded.request_hash,
                    "response_status": None,
                    "response_body": None,
                    "response_headers": None,
                    "created_at": sa.func.now(),
                    "expires_at": insert.excluded.expires_at,
                },
                where=t.c.expires_at < now,
            ).returning(t.c.key)
        )
        if claimed.first() is not None:
            response = await produce()
            await unit.session.execute(
                sa.update(t)
                .where(t.c.principal == self._principal, t.c.key == self.key)
                .values(
                    response_status=response.status_code,
                    response_body=bytes(response.body),
                    response_headers={
                        k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS
                    },
                )
            )
            return response
        stored = (
            await unit.session.execute(
                sa.select(t).where(t.c.principal == self._principal, t.c.key == self.key)
            )
        ).one()
        if stored.request_hash != self._hash:
            raise Problem(
                422,
                "Idempotency key reused",
                "This Idempotency-Key was used with a different request; use a new key.",
                slug="idempotency-key-reused",
            )
        if stored.response_status is None:
            raise Problem(
                409,
                "Request in progress",
                "A request with this Idempotency-Key is still being processed.",
                slug="idempotency-in-progress",
                headers={"Retry-After": "1"},
            )
        return Response(
            content=stored.response_body,
            status_code=stored.response_status,
            headers={**(stored.response_headers or {}), REPLAY_HEADER: "true"},
        )


def check_key(value: str | None) -> str | None:
    if value is not None and not _KEY_PATTERN.match(value):
        raise Problem(
            400,
            "Bad request",
            "Idempotency-Key must be 1-255 visible ASCII characters.",
            slug="invalid-idempotency-key",
        )
    return value
