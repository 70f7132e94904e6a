"""The transactional outbox and its relay: events are written with the change that caused them,
published as CloudEvents with publisher confirms, woken by NOTIFY, found by polling when no
notification comes, shared by several relays without duplicates, and kept while the broker is
away."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection

from shared.clock import SystemClock
from shared.events.envelope import CloudEvent
from shared.messaging.outbox import OutboxWriter
from tests.support import environment, testkit
from tests.support.broker import take, tap
from tests.support.metrics import sample
from tests.support.running import api, running, wait_for
from tests.support.tcp_proxy import TcpProxy
from tests.support.tokens import auth

PING = testkit.PingV1.event_type
LISTENER = "testkit-outbox-listener"


async def _collect(queue: AbstractQueue, count: int, *, timeout: float = 10.0) -> list[Any]:
    """The bodies of the first ``count`` messages to reach ``queue``, parsed."""
    received: list[AbstractIncomingMessage] = []

    async def enough() -> bool:
        received.extend(await take(queue))
        return len(received) >= count

    await wait_for(enough, timeout=timeout, what=f"{count} message(s) on the tap")
    return [orjson.loads(message.body) for message in received]


async def _unpublished(db: asyncpg.Connection) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM testkit.outbox WHERE published_at IS NULL")
    return count


async def _listener_pids(db: asyncpg.Connection) -> list[int]:
    rows = await db.fetch(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = $2",
        LISTENER,
        environment.DATABASE,
    )
    return [row["pid"] for row in rows]


WRITER = OutboxWriter(service="testkit", table=testkit.infra.outbox, clock=SystemClock())


async def _insert_rows(db: asyncpg.Connection, notes: list[str]) -> list[uuid.UUID]:
    """Outbox rows written in one transaction of their own (as another replica's would be)."""
    envelopes = [
        WRITER.envelope(testkit.PingV1(note=note), subject=note, sequence=None) for note in notes
    ]
    await db.executemany(
        "INSERT INTO testkit.outbox (event_id, event_type, subject, payload) "
        "VALUES ($1, $2, $3, $4::jsonb)",
        [(e.id, e.type, e.subject, e.model_dump_json(exclude_none=True)) for e in envelopes],
    )
    return [e.id for e in envelopes]


@asynccontextmanager
async def _connect_revoked(db: asyncpg.Connection) -> AsyncIterator[None]:
    """The test kit's role may not open new connections (those it has stay open)."""
    await db.execute(f'REVOKE CONNECT ON DATABASE "{environment.DATABASE}" FROM testkit')
    try:
        yield
    finally:
        await db.execute(
            f'GRANT CONNECT, TEMPORARY ON DATABASE "{environment.DATABASE}" TO testkit'
        )


async def test_event_is_written_to_the_outbox_in_the_request_transaction(
    db: asyncpg.Connection,
) -> None:
    async with api(testkit.spec) as service:
        created = await service.client.post("/v1/notes", json={"text": "hello"}, headers=auth())
        assert created.status_code == 201, created.text

    note = await db.fetchrow("SELECT id, xmin::text AS tx FROM testkit.notes")
    events = await db.fetch(
        "SELECT event_type, subject, published_at, xmin::text AS tx FROM testkit.outbox"
    )
    assert note is not None
    assert len(events) == 1
    # The same creating transaction id on both rows: one commit wrote the note and its event.
    assert events[0]["tx"] == note["tx"]
    assert events[0]["event_type"] == PING
    assert events[0]["subject"] == str(note["id"])
    assert events[0]["published_at"] is None


async def test_event_of_a_rolled_back_request_is_neither_stored_nor_published(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    async with (
        tap(amqp, PING) as queue,
        running(testkit.spec, run_consumers=False, run_timers=False) as service,
    ):
        failed = await service.client.post(
            "/v1/pings", json={"note": "doomed", "fail_after_emit": True}
        )
        assert failed.status_code == 500
        assert await db.fetchval("SELECT count(*) FROM testkit.outbox") == 0

        # The relay publishes in outbox order, so once a later event is out, an earlier one
        # would have been too.
        later = await service.client.post("/v1/pings", json={"note": "later"})
        assert later.status_code == 202
        bodies = await _collect(queue, 1)
        await wait_for(lambda: _no_unpublished(db), what="outbox published")
        assert [body["data"]["note"] for body in bodies + await _bodies(queue)] == ["later"]
        assert await db.fetchval("SELECT count(*) FROM testkit.outbox") == 1


async def _no_unpublished(db: asyncpg.Connection) -> bool:
    return await _unpublished(db) == 0


async def _bodies(queue: AbstractQueue) -> list[Any]:
    return [orjson.loads(message.body) for message in await take(queue)]


async def test_published_message_is_a_cloudevents_structured_envelope(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    async with (
        tap(amqp, PING) as queue,
        running(testkit.spec, run_consumers=False, run_timers=False) as service,
    ):
        emitted = await service.client.post(
            "/v1/pings",
            json={"note": "hello", "subject": "aggregate-7", "sequence": 7},
            headers={"X-Correlation-ID": "corr-outbox-1"},
        )
        assert emitted.status_code == 202, emitted.text
        event_id = emitted.json()["event_id"]

        received: list[AbstractIncomingMessage] = []

        async def arrived() -> bool:
            received.extend(await take(queue))
            return bool(received)

        await wait_for(arrived, what="the event on the tap")
        (message,) = received
        body = json.loads(message.body)
        assert body == {
            "specversion": "1.0",
            "id": event_id,
            "source": "/testkit",
            "type": PING,
            "time": body["time"],
            "subject": "aggregate-7",
            "datacontenttype": "application/json",
            "data": {"note": "hello", "fail_first": 0, "delay_ms": 0},
            "sequence": 7,
            "correlationid": "corr-outbox-1",
        }
        sent_at = datetime.fromisoformat(body["time"])
        assert sent_at.utcoffset() is not None  # RFC 3339 with an offset
        assert CloudEvent.model_validate(body).id == uuid.UUID(event_id)
        assert message.content_type == "application/cloudevents+json"
        assert message.message_id == event_id
        assert message.type == PING
        assert message.routing_key == PING
        assert message.delivery_mode is not None and message.delivery_mode.value == 2

        async def published_at() -> datetime | None:
            value: datetime | None = await db.fetchval(
                "SELECT published_at FROM testkit.outbox WHERE event_id = $1",
                uuid.UUID(event_id),
            )
            return value

        assert await wait_for(published_at, what="published_at set") is not None


async def test_notify_wakes_the_relay_long_before_its_poll_interval(
    amqp: AbstractRobustConnection,
) -> None:
    async with (
        tap(amqp, PING) as queue,
        running(
            testkit.spec, run_consumers=False, run_timers=False, outbox_poll_interval_s=60
        ) as service,
    ):
        emitted = await service.client.post("/v1/pings", json={"note": "notified"})
        assert emitted.status_code == 202
        # Only a NOTIFY can wake a relay that would otherwise sleep for a minute.
        bodies = await _collect(queue, 1, timeout=5)
        assert bodies[0]["data"]["note"] == "notified"


async def test_relay_listens_again_at_once_after_losing_its_listener(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    async with (
        tap(amqp, PING) as queue,
        running(
            testkit.spec, run_consumers=False, run_timers=False, outbox_poll_interval_s=60
        ) as service,
    ):
        (first,) = await _listener_pids(db)
        await db.execute("SELECT pg_terminate_backend($1)", first)

        async def new_listener() -> bool:
            pids = await _listener_pids(db)
            return len(pids) == 1 and pids[0] != first

        await wait_for(new_listener, timeout=5, what="a new LISTEN connection")
        emitted = await service.client.post("/v1/pings", json={"note": "after-reconnect"})
        assert emitted.status_code == 202
        bodies = await _collect(queue, 1, timeout=5)
        assert bodies[0]["data"]["note"] == "after-reconnect"


async def test_rows_written_without_a_notification_are_relayed_by_polling(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    async with (
        tap(amqp, PING) as queue,
        running(testkit.spec, run_consumers=False, run_timers=False, outbox_poll_interval_s=0.2),
    ):
        envelope = WRITER.envelope(testkit.PingV1(note="silent"), subject="s", sequence=None)
        async with db.transaction():
            # Replica mode skips the NOTIFY trigger, as if the notification had been lost.
            await db.execute("SET LOCAL session_replication_role = replica")
            await db.execute(
                "INSERT INTO testkit.outbox (event_id, event_type, subject, payload) "
                "VALUES ($1, $2, $3, $4::jsonb)",
                envelope.id,
                envelope.type,
                envelope.subject,
                envelope.model_dump_json(exclude_none=True),
            )
        bodies = await _collect(queue, 1)
        assert bodies[0]["id"] == str(envelope.id)
        await wait_for(lambda: _no_unpublished(db), what="row marked published")


async def test_relay_keeps_polling_when_it_cannot_listen(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    async with (
        tap(amqp, PING) as queue,
        running(
            testkit.spec, run_consumers=False, run_timers=False, outbox_poll_interval_s=0.2
        ) as service,
        _connect_revoked(db),
    ):
        (listener,) = await _listener_pids(db)
        await db.execute("SELECT pg_terminate_backend($1)", listener)
        await wait_for(lambda: _listener_gone(db), timeout=5, what="the listener to be terminated")
        event_ids = await _insert_rows(db, ["polled-1", "polled-2"])
        bodies = await _collect(queue, 2)
        assert sorted(body["id"] for body in bodies) == sorted(str(i) for i in event_ids)
        await wait_for(lambda: _no_unpublished(db), what="rows marked published")
        # Nobody listened the whole time: the rows were found by polling.
        assert await _listener_pids(db) == []
        assert service.runtime.relay is not None and service.runtime.relay.alive


async def _listener_gone(db: asyncpg.Connection) -> bool:
    return not await _listener_pids(db)


async def test_two_relays_publish_each_of_a_thousand_events_exactly_once(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    settings: dict[str, Any] = {
        "run_consumers": False,
        "run_timers": False,
        "outbox_batch_size": 50,
        "outbox_poll_interval_s": 0.2,
        "ready": False,  # start both at once, so their first passes race for the same rows
    }
    async with tap(amqp, PING) as queue:
        written = await _insert_rows(db, [f"pending-{n}" for n in range(500)])
        async with running(testkit.spec, **settings), running(testkit.spec, **settings):
            # Then five commits of a hundred rows, waking both relays again and again.
            for batch in range(5):
                written += await _insert_rows(db, [f"new-{batch}-{n}" for n in range(100)])
            await wait_for(lambda: _no_unpublished(db), timeout=30, what="all 1000 rows published")
        # Both relays stopped; publisher confirms mean every message is in the queue by now.
        messages = await take(queue)
    ids = [message.message_id for message in messages]
    assert len(written) == 1000
    assert len(ids) == 1000
    assert set(ids) == {str(event_id) for event_id in written}


async def test_events_wait_in_the_outbox_while_the_broker_is_unreachable(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    proxy = TcpProxy("127.0.0.1", 5672)
    await proxy.up()
    await proxy.down()  # a port on which nothing listens, until the proxy comes up again
    amqp_url = f"amqp://guest:guest@127.0.0.1:{proxy.port}/"
    try:
        async with running(
            testkit.spec,
            ready=False,
            amqp_url=amqp_url,
            run_timers=False,
            outbox_poll_interval_s=60,
        ) as service:
            not_ready = await service.client.get("/readyz")
            assert not_ready.status_code == 503
            checks = not_ready.json()["checks"]
            assert checks["broker"] is False
            assert checks["database"] is True

            for note in ("kept-1", "kept-2", "kept-3"):
                emitted = await service.client.post("/v1/pings", json={"note": note})
                assert emitted.status_code == 202

            async def relay_saw_backlog() -> bool:
                return sample("outbox_backlog", service="testkit") == 3

            # The relay has looked at the rows (the backlog gauge counts them) and kept them.
            await wait_for(relay_saw_backlog, what="the relay to count the backlog")
            assert await _unpublished(db) == 3
            assert (await service.client.get("/readyz")).status_code == 503

            await proxy.up()
            # The relay is woken by the broker coming back, not by its minute-long poll.
            await wait_for(lambda: _effects(db, 3), timeout=10, what="kept events handled")
            assert await _unpublished(db) == 0
            assert (await service.client.get("/readyz")).status_code == 200
    finally:
        await proxy.down()
    notes = await db.fetch("SELECT note FROM testkit.effects WHERE source = 'ping'")
    assert sorted(row["note"] for row in notes) == ["kept-1", "kept-2", "kept-3"]


async def _effects(db: asyncpg.Connection, count: int) -> bool:
    found: int = await db.fetchval("SELECT count(*) FROM testkit.effects")
    return found == count


async def test_relay_stopped_mid_stream_publishes_nothing_twice(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    settings: dict[str, Any] = {
        "run_consumers": False,
        "run_timers": False,
        "outbox_batch_size": 100,
    }
    async with tap(amqp, PING) as queue:
        written = await _insert_rows(db, [f"s-{n}" for n in range(1000)])

        async def under_way() -> bool:
            return await _unpublished(db) <= 900

        # Not waiting for readiness: the relay's first pass is the one to interrupt.
        async with running(testkit.spec, ready=False, **settings):
            await wait_for(under_way, what="the first batch published")
        async with running(testkit.spec, **settings):
            await wait_for(lambda: _no_unpublished(db), what="the rest published")
        messages = await take(queue)
    ids = [message.message_id for message in messages]
    assert len(ids) == 1000
    assert set(ids) == {str(event_id) for event_id in written}
