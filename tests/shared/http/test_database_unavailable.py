"""Losing the database makes the service say so (503), not fail (500), and it recovers by itself.

The database is taken away by a TCP proxy between the service and PostgreSQL, so the shared
PostgreSQL server keeps running for everyone else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from tests.support import environment, testkit
from tests.support.problems import assert_problem
from tests.support.running import Running, api, running, wait_for
from tests.support.tcp_proxy import TcpProxy, tcp_proxy
from tests.support.tokens import auth

LOCK_KEY = 7_340_033


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    async with tcp_proxy("127.0.0.1", 5432) as running_proxy:
        yield running_proxy


@pytest.fixture
async def proxied(proxy: TcpProxy) -> AsyncIterator[Running]:
    """The test kit reaching PostgreSQL only through ``proxy``."""
    url = f"postgresql+asyncpg://testkit@127.0.0.1:{proxy.port}/{environment.DATABASE}"
    async with api(testkit.spec, database_url=url) as service:
        yield service


async def _ready(service: Running) -> bool:
    return (await service.client.get("/readyz")).status_code == 200


async def _backend_waiting_for(db: asyncpg.Connection, key: int) -> int | None:
    """The server process of a session waiting for advisory lock ``key`` in this database."""
    pid: int | None = await db.fetchval(
        """SELECT pid FROM pg_locks
           WHERE locktype = 'advisory' AND NOT granted AND objid = $1
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""",
        key,
    )
    return pid


async def test_readiness_reports_the_database_down_and_the_whole_stack_up_again(
    proxy: TcpProxy, db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    url = f"postgresql+asyncpg://testkit@127.0.0.1:{proxy.port}/{environment.DATABASE}"
    # Everything on (relay, consumer, timers), so recovery covers their connections too.
    async with running(testkit.spec, database_url=url) as service:
        await proxy.down()
        down = await service.client.get("/readyz")

        assert down.status_code == 503
        assert down.headers["content-type"] == "application/problem+json"
        assert down.json()["checks"]["database"] is False
        assert "database" in down.json()["detail"]

        await proxy.up()
        await wait_for(lambda: _ready(service), timeout=15, what="readiness after recovery")
        created = await service.client.post("/v1/notes", json={"text": "back"}, headers=auth())
        assert created.status_code == 201

        async def handled() -> bool:
            # Published by the relay and handled by the consumer: both reconnected.
            return bool(await db.fetchval("SELECT count(*) FROM testkit.effects"))

        await wait_for(handled, timeout=15, what="the note's event handled after recovery")


async def test_api_answers_503_problem_while_database_is_down_and_recovers(
    proxy: TcpProxy, proxied: Running
) -> None:
    created = await proxied.client.post("/v1/notes", json={"text": "before"}, headers=auth())
    assert created.status_code == 201
    # The pool now holds a connection that the outage will cut.

    await proxy.down()
    read = await proxied.client.get(created.headers["location"], headers=auth())
    write = await proxied.client.post("/v1/notes", json={"text": "during"}, headers=auth())

    for response in (read, write):
        body = assert_problem(response, 503, "unavailable")
        assert response.headers["retry-after"].isdigit()
        assert "database" in body["detail"]

    await proxy.up()

    async def recovered() -> bool:
        response = await proxied.client.get(created.headers["location"], headers=auth())
        return response.status_code == 200

    await wait_for(recovered, timeout=10, what="reads after recovery")
    after = await proxied.client.post("/v1/notes", json={"text": "after"}, headers=auth())
    assert after.status_code == 201
    listed = await proxied.client.get("/v1/notes", headers=auth())
    assert sorted(n["text"] for n in listed.json()["items"]) == ["after", "before"]


async def test_losing_the_database_in_the_middle_of_a_request_is_a_503(
    proxy: TcpProxy, proxied: Running, db: asyncpg.Connection
) -> None:
    await db.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        request = asyncio.create_task(
            proxied.client.post(f"/v1/advisory-locks/{LOCK_KEY}", headers=auth())
        )

        await wait_for(lambda: _backend_waiting_for(db, LOCK_KEY), what="blocked request")
        await proxy.down()
        response = await request
    finally:
        await db.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)

    assert_problem(response, 503, "unavailable")
    await proxy.up()
    await wait_for(lambda: _ready(proxied), timeout=10, what="readiness after recovery")


async def test_connection_ended_by_the_server_mid_request_is_a_503_and_the_pool_recovers(
    service: Running, db: asyncpg.Connection
) -> None:
    await db.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        request = asyncio.create_task(
            service.client.post(f"/v1/advisory-locks/{LOCK_KEY}", headers=auth())
        )
        backend = await wait_for(lambda: _backend_waiting_for(db, LOCK_KEY), what="blocked request")
        await db.execute("SELECT pg_terminate_backend($1)", backend)
        response = await request
    finally:
        await db.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)

    assert_problem(response, 503, "unavailable")
    assert (await service.client.get("/v1/notes", headers=auth())).status_code == 200


async def test_too_many_connections_is_a_503(db: asyncpg.Connection) -> None:
    # A role of this run's own whose connection limit is already reached, so the shared
    # PostgreSQL and the roles other runs use are left alone.
    role = f"no_slots_{environment.RUN_ID}"
    await db.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0')
    await db.execute(f'GRANT CONNECT ON DATABASE "{environment.DATABASE}" TO "{role}"')
    try:
        url = f"postgresql+asyncpg://{role}@127.0.0.1:5432/{environment.DATABASE}"
        async with api(testkit.spec, database_url=url) as service:
            response = await service.client.get("/v1/notes", headers=auth())
    finally:
        await db.execute(f'REVOKE ALL ON DATABASE "{environment.DATABASE}" FROM "{role}"')
        await db.execute(f'DROP ROLE "{role}"')

    assert_problem(response, 503, "unavailable")


async def test_database_error_that_is_our_bug_stays_a_500(service: Running) -> None:
    response = await service.client.post("/v1/bad-sql", headers=auth())

    body = assert_problem(response, 500)
    assert "no_such_table" not in response.text
    assert body["type"] == "about:blank"
