"""The inbox consumer: one effect per event id however often it arrives, retries through the
delayed-retry queues, and parking (with the reason) for what can never be handled, while the
consumer goes on with the next message."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from shared.events.envelope import CloudEvent
from tests.support import broker, environment, testkit
from tests.support.metrics import sample
from tests.support.running import running, wait_for
from tests.support.tcp_proxy import tcp_proxy

PING = testkit.PingV1.event_type
SERVICE = "testkit"
PARKING_QUEUE = broker.topology(SERVICE).parking_queue


def _envelope(data: dict[str, Any], *, event_type: str = PING) -> CloudEvent:
    return CloudEvent(
        id=uuid.uuid4(),
        source="/elsewhere",
        type=event_type,
        time=datetime.now(UTC),
        subject="subject-1",
        data=data,
    )


async def _publish(amqp: AbstractRobustConnection, body: bytes | CloudEvent) -> None:
    raw = body.model_dump_json().encode() if isinstance(body, CloudEvent) else body
    await broker.publish(amqp, raw, routing_key=PING)


async def _effects(db: asyncpg.Connection) -> list[str]:
    rows = await db.fetch("SELECT note FROM testkit.effects WHERE source = 'ping' ORDER BY id")
    return [row["note"] for row in rows]


async def _parked(amqp: AbstractRobustConnection, count: int) -> list[AbstractIncomingMessage]:
    parked: list[AbstractIncomingMessage] = []

    async def arrived() -> bool:
        parked.extend(await broker.drain(amqp, PARKING_QUEUE))
        return len(parked) >= count

    await wait_for(arrived, what=f"{count} parked message(s)")
    return parked


def _header(message: AbstractIncomingMessage, name: str) -> Any:
    value = (message.headers or {}).get(name)
    return value.decode() if isinstance(value, bytes) else value


async def test_same_event_delivered_twice_has_exactly_one_effect(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    duplicates_before = sample("inbox_duplicates_skipped_total", service=SERVICE, type=PING)
    handled_before = sample("events_consumed_total", service=SERVICE, type=PING, outcome="handled")
    envelope = _envelope({"note": "once"})
    async with running(testkit.spec, run_timers=False):
        await _publish(amqp, envelope)
        await _publish(amqp, envelope)

        async def duplicate_skipped() -> bool:
            skipped = sample("inbox_duplicates_skipped_total", service=SERVICE, type=PING)
            return skipped == duplicates_before + 1

        await wait_for(duplicate_skipped, what="the second delivery to be skipped")
    assert await _effects(db) == ["once"]
    assert testkit.attempts[str(envelope.id)] == 1
    inbox = await db.fetch("SELECT event_id, event_type FROM testkit.inbox")
    assert [(row["event_id"], row["event_type"]) for row in inbox] == [(envelope.id, PING)]
    assert (
        sample("events_consumed_total", service=SERVICE, type=PING, outcome="handled")
        == handled_before + 1
    )


async def test_undecodable_message_is_parked_and_the_consumer_goes_on(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    parked_before = sample(
        "events_parked_total", service=SERVICE, type="unknown", reason="invalid envelope"
    )
    async with running(testkit.spec, run_timers=False):
        await _publish(amqp, b"this is not json")
        await _publish(amqp, _envelope({"note": "after-garbage"}))
        (parked,) = await _parked(amqp, 1)
        await wait_for(lambda: _effects(db), what="the following good event handled")
    assert parked.body == b"this is not json"
    assert _header(parked, "x-parked-reason").startswith("invalid envelope: ")
    assert _header(parked, "x-attempt") == 0
    assert await _effects(db) == ["after-garbage"]
    assert (
        sample("events_parked_total", service=SERVICE, type="unknown", reason="invalid envelope")
        == parked_before + 1
    )


async def test_event_with_invalid_data_is_parked_at_once_naming_the_field(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    retried_before = sample("events_retried_total", service=SERVICE, type=PING)
    envelope = _envelope({"fail_first": 0})  # "note" is required
    async with running(testkit.spec, run_timers=False):
        await _publish(amqp, envelope)
        (parked,) = await _parked(amqp, 1)
    reason = _header(parked, "x-parked-reason")
    assert reason.startswith(f"invalid data for {PING}: ")
    assert "note: Field required" in reason
    assert _header(parked, "x-attempt") == 0
    assert CloudEvent.model_validate_json(parked.body).id == envelope.id
    assert testkit.attempts[str(envelope.id)] == 0  # the handler never ran
    assert sample("events_retried_total", service=SERVICE, type=PING) == retried_before
    assert await _effects(db) == []


async def test_event_of_a_type_nobody_handles_is_parked_not_looped(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    stray = _envelope({"note": "stray"}, event_type="testkit.unknown.v1")
    async with running(testkit.spec, run_timers=False):
        # Routed with a key the queue is bound to, so it does arrive.
        await _publish(amqp, stray)
        (parked,) = await _parked(amqp, 1)
        await _publish(amqp, _envelope({"note": "next"}))
        await wait_for(lambda: _effects(db), what="the next event handled")
    assert _header(parked, "x-parked-reason") == "no handler for event type testkit.unknown.v1"
    assert _header(parked, "x-attempt") == 0
    assert await _effects(db) == ["next"]
    assert await db.fetchval("SELECT count(*) FROM testkit.inbox") == 1


async def test_handler_failing_twice_succeeds_on_retry_with_one_effect(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    retried_before = sample("events_retried_total", service=SERVICE, type=PING)
    envelope = _envelope({"note": "flaky", "fail_first": 2})
    async with running(testkit.spec, run_timers=False):
        await _publish(amqp, envelope)
        await wait_for(lambda: _effects(db), what="the flaky event handled")
    assert await _effects(db) == ["flaky"]
    assert testkit.attempts[str(envelope.id)] == 3
    assert sample("events_retried_total", service=SERVICE, type=PING) == retried_before + 2
    assert await broker.drain(amqp, PARKING_QUEUE) == []
    assert await db.fetchval("SELECT count(*) FROM testkit.inbox") == 1


async def test_handler_that_always_fails_is_retried_then_parked_with_the_error(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    retried_before = sample("events_retried_total", service=SERVICE, type=PING)
    parked_before = sample(
        "events_parked_total", service=SERVICE, type=PING, reason="handler failed"
    )
    envelope = _envelope({"note": "explode"})
    async with running(testkit.spec, run_timers=False) as service:
        await _publish(amqp, envelope)
        (parked,) = await _parked(amqp, 1)
        delays = service.runtime.topology.retry_delays_ms
    assert len(delays) == 2
    assert testkit.attempts[str(envelope.id)] == len(delays) + 1
    assert (
        _header(parked, "x-parked-reason")
        == "handler failed: RuntimeError: this handler always fails"
    )
    assert _header(parked, "x-attempt") == len(delays)
    assert CloudEvent.model_validate_json(parked.body).id == envelope.id
    assert sample("events_retried_total", service=SERVICE, type=PING) == retried_before + len(
        delays
    )
    assert (
        sample("events_parked_total", service=SERVICE, type=PING, reason="handler failed")
        == parked_before + 1
    )
    assert await _effects(db) == []
    assert await db.fetchval("SELECT count(*) FROM testkit.inbox") == 0


async def test_message_that_cannot_be_parked_is_kept_until_it_can_be(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    topology = broker.topology(SERVICE)
    requeued_before = sample(
        "events_consumed_total", service=SERVICE, type="unknown", outcome="requeued"
    )
    async with running(testkit.spec, run_timers=False):
        channel = await amqp.channel()
        parking = await channel.declare_queue(topology.parking_queue, passive=True)
        # With the parking queue unbound, parking a message would route it nowhere.
        await parking.unbind(topology.dead_letter_exchange, topology.parking_routing_key)
        try:
            await _publish(amqp, b"garbage that cannot be parked yet")

            async def requeued() -> bool:
                return (
                    sample(
                        "events_consumed_total", service=SERVICE, type="unknown", outcome="requeued"
                    )
                    > requeued_before
                )

            await wait_for(requeued, what="the message given back to the queue")
        finally:
            await parking.bind(topology.dead_letter_exchange, topology.parking_routing_key)
            await channel.close()
        (parked,) = await _parked(amqp, 1)
    assert parked.body == b"garbage that cannot be parked yet"
    assert _header(parked, "x-parked-reason").startswith("invalid envelope: ")


async def test_event_arriving_during_a_database_outage_waits_instead_of_using_up_retries(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    retried_before = sample("events_retried_total", service=SERVICE, type=PING)
    delayed_before = sample("events_delayed_total", service=SERVICE, type=PING)
    envelope = _envelope({"note": "patient"})
    async with tcp_proxy("127.0.0.1", 5432) as database:
        url = f"postgresql+asyncpg://testkit@127.0.0.1:{database.port}/{environment.DATABASE}"
        async with running(testkit.spec, run_timers=False, database_url=url):
            await database.down()
            await _publish(amqp, envelope)

            async def waited() -> bool:
                delayed = sample("events_delayed_total", service=SERVICE, type=PING)
                return delayed >= delayed_before + 3

            # Longer than the retry delays add up to: without waiting it would be parked by now.
            await wait_for(waited, what="the consumer to wait for the database three times")
            await database.up()
            await wait_for(lambda: _effects(db), what="the event handled once the database is back")
    assert await _effects(db) == ["patient"]
    assert testkit.attempts[str(envelope.id)] == 1
    assert sample("events_retried_total", service=SERVICE, type=PING) == retried_before
    assert await broker.drain(amqp, PARKING_QUEUE) == []


async def test_event_waiting_for_the_database_goes_back_to_the_queue_on_stop(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    retried_before = sample("events_retried_total", service=SERVICE, type=PING)
    delayed_before = sample("events_delayed_total", service=SERVICE, type=PING)
    envelope = _envelope({"note": "handed-over"})
    async with tcp_proxy("127.0.0.1", 5432) as database:
        url = f"postgresql+asyncpg://testkit@127.0.0.1:{database.port}/{environment.DATABASE}"
        async with running(testkit.spec, run_timers=False, database_url=url):
            await database.down()
            await _publish(amqp, envelope)

            async def waiting() -> bool:
                delayed = sample("events_delayed_total", service=SERVICE, type=PING)
                return delayed > delayed_before

            await wait_for(waiting, what="the consumer to wait for the database")
        await database.up()

    async def queued_again() -> bool:
        return await broker.message_count(amqp, broker.topology(SERVICE).queue) == 1

    await wait_for(queued_again, what="the event back in the service queue")
    async with running(testkit.spec, run_timers=False):
        await wait_for(lambda: _effects(db), what="the event handled by the next instance")
    assert await _effects(db) == ["handed-over"]
    assert sample("events_retried_total", service=SERVICE, type=PING) == retried_before
    assert await broker.drain(amqp, PARKING_QUEUE) == []


async def test_event_emitted_by_a_handler_carries_the_correlation_and_trace_of_its_cause(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    cause = _envelope({"note": "echo:1"}).model_copy(
        update={"correlationid": "corr-chain-1", "traceparent": traceparent}
    )
    async with running(testkit.spec, run_timers=False):
        await _publish(amqp, cause)

        async def both_handled() -> list[str]:
            notes = await _effects(db)
            return notes if len(notes) == 2 else []

        await wait_for(both_handled, what="the event and the one it caused handled")
    assert await _effects(db) == ["echo:1", "echoed:echo:1"]
    row = await db.fetchrow("SELECT payload FROM testkit.outbox")
    assert row is not None
    caused = CloudEvent.model_validate_json(row["payload"])
    assert caused.id != cause.id
    assert caused.source == "/testkit"
    assert caused.subject == cause.subject
    assert caused.correlationid == "corr-chain-1"
    assert caused.traceparent == traceparent
