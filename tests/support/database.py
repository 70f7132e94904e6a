"""Creating, migrating, cleaning and dropping the test run's database."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg

from shared.bootstrap import bootstrap
from shared.migrations import upgrade
from shared.service import ServiceSpec
from tests.support import environment

PLAIN_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def test_dsn() -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{environment.DATABASE}"


async def create(specs: Sequence[ServiceSpec]) -> None:
    for spec in specs:
        settings = spec.settings_class()
        await bootstrap(settings, spec.extensions)
        await asyncio.to_thread(upgrade, settings, spec)


async def drop() -> None:
    connection = await asyncpg.connect(PLAIN_ADMIN_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{environment.DATABASE}" WITH (FORCE)')
    finally:
        await connection.close()


async def truncate_all(connection: asyncpg.Connection, schemas: Sequence[str]) -> None:
    """Empty every table of the given schemas (but Alembic's). DELETE with foreign-key triggers
    off is far cheaper than TRUNCATE for the handful of rows a test leaves behind."""
    rows = await connection.fetch(
        """SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name
           FROM pg_tables
           WHERE schemaname = ANY($1::text[]) AND tablename <> 'alembic_version'""",
        list(schemas),
    )
    if not rows:
        return
    statements = "; ".join(f"DELETE FROM {row['name']}" for row in rows)  # noqa: S608
    async with connection.transaction():
        await connection.execute("SET LOCAL session_replication_role = replica")
        await connection.execute(statements)
