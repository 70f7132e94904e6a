"""Stopping a service while events are in flight loses none and handles none twice: handlers
already running finish and are acknowledged, and what was delivered but not started goes back
to the queue for the next instance."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aio_pika.abc import AbstractRobustConnection

from shared.events.envelope import CloudEvent
from tests.support import broker, testkit
from tests.support.running import running, wait_for

PING = testkit.PingV1.event_type
QUEUE = broker.topology("testkit").queue
COUNT = 120


async def _handled(db: asyncpg.Connection) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM testkit.effects WHERE source = 'ping'")
    return count


async def test_stopping_with_events_in_flight_loses_none_and_repeats_none(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    # Two handler slots, thirty prefetched, 50 ms a handler: stopping always finds some events
    # being handled and more waiting in the process.
    settings: dict[str, Any] = {"run_timers": False, "db_pool_size": 4, "broker_prefetch": 30}
    async with running(testkit.spec, **settings):
        envelopes = [
            CloudEvent(
                id=uuid.uuid4(),
                source="/elsewhere",
                type=PING,
                time=datetime.now(UTC),
                subject=f"s-{n}",
                data={"note": f"n-{n}", "delay_ms": 50},
            )
            for n in range(COUNT)
        ]
        for envelope in envelopes:
            await broker.publish(amqp, envelope.model_dump_json().encode(), routing_key=PING)

        async def started() -> bool:
            return await _handled(db) >= 6

        await wait_for(started, what="the first events handled")

    stopped_with = await _handled(db)
    assert stopped_with < COUNT

    async def rest_queued() -> bool:
        return await broker.message_count(amqp, QUEUE) == COUNT - stopped_with

    # What the stopped instance had not finished is back in the queue, none of it lost.
    await wait_for(rest_queued, what="the unhandled events back in the queue")

    async with running(testkit.spec, **settings):

        async def all_handled() -> bool:
            return await _handled(db) == COUNT

        await wait_for(all_handled, timeout=20, what="every event handled")

    notes = [row["note"] for row in await db.fetch("SELECT note FROM testkit.effects")]
    assert sorted(notes) == sorted(f"n-{n}" for n in range(COUNT))
    assert await db.fetchval("SELECT count(*) FROM testkit.inbox") == COUNT
    # No handler was interrupted and run again: each event was attempted exactly once.
    assert {testkit.attempts[str(envelope.id)] for envelope in envelopes} == {1}
    assert await broker.drain(amqp, broker.topology("testkit").parking_queue) == []
