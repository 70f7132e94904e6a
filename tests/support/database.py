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


SEED_SCHEMA = "test_seed"


async def create(specs: Sequence[ServiceSpec]) -> None:
    for spec in specs:
        settings = spec.settings_class()
        await bootstrap(settings, spec.extensions)
        await asyncio.to_thread(upgrade, settings, spec)
    connection = await asyncpg.connect(test_dsn())
    try:
        await _keep_seeds(connection, [spec.name for spec in specs])
    finally:
        await connection.close()


async def _keep_seeds(connection: asyncpg.Connection, schemas: Sequence[str]) -> None:
    """Copy the rows migrations seeded (e.g. default policies) aside, so that cleaning up after
    a test can put them back: every test starts from a freshly migrated database's content."""
    await connection.execute(f"CREATE SCHEMA {SEED_SCHEMA}")
    for name in await _tables(connection, schemas):
        if await connection.fetchval(f"SELECT EXISTS (SELECT FROM {name})"):  # noqa: S608
            copy = _seed_copy(name)
            await connection.execute(f"CREATE TABLE {copy} AS SELECT * FROM {name}")  # noqa: S608
            _SEEDED.append(name)


_SEEDED: list[str] = []


def _seed_copy(name: str) -> str:
    return f'{SEED_SCHEMA}."{name.replace(chr(34), "")}"'


async def _tables(connection: asyncpg.Connection, schemas: Sequence[str]) -> list[str]:
    rows = await connection.fetch(
        """SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name
           FROM pg_tables
           WHERE schemaname = ANY($1::text[]) AND tablename <> 'alembic_version'""",
        list(schemas),
    )
    return [row["name"] for row in rows]


async def drop() -> None:
    connection = await asyncpg.connect(PLAIN_ADMIN_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{environment.DATABASE}" WITH (FORCE)')
    finally:
        await connection.close()


async def truncate_all(connection: asyncpg.Connection, schemas: Sequence[str]) -> None:
    """Bring every table of the given schemas (but Alembic's) back to what the migrations left:
    empty, or the rows they seeded. DELETE with foreign-key triggers off is far cheaper than
    TRUNCATE for the handful of rows a test leaves behind."""
    names = await _tables(connection, schemas)
    if not names:
        return
    statements = [f"DELETE FROM {name}" for name in names]  # noqa: S608
    statements += [
        f"INSERT INTO {name} OVERRIDING SYSTEM VALUE SELECT * FROM {_seed_copy(name)}"  # noqa: S608
        for name in _SEEDED
    ]
    # Services of an end-to-end run keep working in the background (matchers, timers) and may
    # hold row locks the deletes need in another order: a deadlock is retried, not a failure.
    for attempt in range(5):
        try:
            async with connection.transaction():
                await connection.execute("SET LOCAL session_replication_role = replica")
                await connection.execute("; ".join(statements))
            return
        except asyncpg.exceptions.DeadlockDetectedError:
            if attempt == 4:
                raise
