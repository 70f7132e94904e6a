"""Every test runs against a real PostgreSQL database created for this run (migrated with each
service's own Alembic history) and a RabbitMQ namespace of its own. Tables are truncated and
queues purged after each test."""

from __future__ import annotations

from tests.support import environment

environment.apply()

from collections.abc import AsyncIterator  # noqa: E402

import aio_pika  # noqa: E402
import asyncpg  # noqa: E402
import pytest  # noqa: E402
from aio_pika.abc import AbstractRobustConnection  # noqa: E402

from tests.support import broker, cleanup, database, testkit  # noqa: E402
from tests.support.cleanup import SCHEMAS, SPECS  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
async def test_database() -> AsyncIterator[str]:
    await database.drop()
    await database.create(SPECS)
    yield environment.DATABASE
    await database.drop()
    # Services started by any test declared the run's queues and exchanges: remove them all,
    # whether or not a test asked for the ``amqp`` fixture.
    connection = await aio_pika.connect_robust(environment.AMQP_URL)
    try:
        await broker.delete_namespace(connection, SCHEMAS)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def admin_connection(test_database: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to the test database, for arranging and asserting."""
    connection = await asyncpg.connect(database.test_dsn())
    yield connection
    await connection.close()


@pytest.fixture(scope="session")
async def amqp() -> AsyncIterator[AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(environment.AMQP_URL)
    yield connection
    await connection.close()


@pytest.fixture
async def db(admin_connection: asyncpg.Connection) -> asyncpg.Connection:
    return admin_connection


@pytest.fixture(autouse=True)
async def _clean_state(
    request: pytest.FixtureRequest, admin_connection: asyncpg.Connection
) -> AsyncIterator[None]:
    yield
    if admin_connection.is_closed():
        return
    amqp = request.getfixturevalue("amqp") if "amqp" in request.fixturenames else None
    await cleanup.clean(admin_connection, amqp)
    testkit.attempts.clear()
