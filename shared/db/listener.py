"""A LISTEN connection that wakes a background loop when a NOTIFY arrives on its channel (or
when the connection is lost, so the loop catches up at once rather than after a poll)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg

from shared.db.engine import Database, asyncpg_dsn


class Listener:
    def __init__(self, db: Database, *, channel: str, wake: Callable[[], None], name: str) -> None:
        self._db = db
        self._channel = channel
        self._wake = wake
        self._name = name
        self._connection: asyncpg.Connection | None = None

    async def ensure(self) -> None:
        """Connect and listen unless already listening; raises when the database is away."""
        if self._connection is not None and not self._connection.is_closed():
            return
        await self.close()
        connection: asyncpg.Connection = await asyncpg.connect(
            asyncpg_dsn(self._db.url),
            timeout=5,
            server_settings={"application_name": self._name},
        )

        def wake(*_: Any) -> None:
            self._wake()

        await connection.add_listener(self._channel, wake)
        # Notifications sent while the listener is gone are lost: wake up to reconnect and
        # catch up at once rather than after a whole poll interval.
        connection.add_termination_listener(wake)
        self._connection = connection

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            try:
                await asyncio.wait_for(connection.close(), timeout=2)
            except Exception:
                connection.terminate()
