"""The async engine and session factory of one service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.settings import ServiceSettings


def json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def service_url(settings: ServiceSettings) -> URL:
    url = make_url(settings.database_url)
    if settings.database_password is not None:
        url = url.set(password=settings.database_password.get_secret_value())
    return url


def asyncpg_dsn(url: URL) -> str:
    """The same URL in the form asyncpg's own ``connect`` accepts (for LISTEN connections)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Database:
    """Owns the engine; sessions commit nothing by themselves."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.url = service_url(settings)
        server_settings = {
            "application_name": settings.service_name,
            "search_path": settings.schema,
            "statement_timeout": str(settings.db_statement_timeout_ms),
            "timezone": "UTC",
        }
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_s,
            # No ping on checkout: with asyncpg it costs three round trips (BEGIN, ";", ROLLBACK)
            # per transaction, a third of an event's handling (see docs/benchmarks.md). A
            # connection found dead in use invalidates the whole pool, so after an outage one
            # unit of work fails (503, or a retried event) and the next ones reconnect.
            pool_pre_ping=False,
            pool_recycle=1800,
            # Statement parameters can hold personal data; keep them out of errors and logs.
            hide_parameters=True,
            json_serializer=json_dumps,
            json_deserializer=orjson.loads,
            connect_args={
                "timeout": settings.db_connect_timeout_s,
                "server_settings": server_settings,
            },
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits when the block ends and rolls back if it raises."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def reachable(self, timeout_s: float = 2.0) -> bool:
        """Whether the database answers a ping within ``timeout_s``."""
        try:
            await asyncio.wait_for(self.ping(), timeout=timeout_s)
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()
