"""What a running service declares on the broker. RabbitMQ refuses to redeclare a queue with
other arguments (PRECONDITION_FAILED), so declaring with the expected arguments succeeding and
with different ones failing proves what the queues were created with."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection
from aio_pika.exceptions import ChannelPreconditionFailed

from tests.support import testkit
from tests.support.running import running


async def _declare(
    amqp: AbstractRobustConnection, name: str, arguments: dict[str, Any] | None
) -> int:
    """Declare (passively when ``arguments`` is None); the queue's message count."""
    channel = await amqp.channel()
    try:
        if arguments is None:
            queue = await channel.declare_queue(name, passive=True)
        else:
            queue = await channel.declare_queue(name, durable=True, arguments=arguments)
        return queue.declaration_result.message_count or 0
    finally:
        if not channel.is_closed:
            await channel.close()


async def _refused(amqp: AbstractRobustConnection, name: str, arguments: dict[str, Any]) -> bool:
    try:
        await _declare(amqp, name, arguments)
    except ChannelPreconditionFailed:
        return True
    return False


async def test_service_queue_is_a_quorum_queue_with_dead_lettering_and_a_delivery_limit(
    amqp: AbstractRobustConnection,
) -> None:
    async with running(testkit.spec, run_timers=False) as service:
        topology = service.runtime.topology
        arguments = topology.queue_arguments()
        assert arguments == {
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": topology.dead_letter_exchange,
            "x-dead-letter-routing-key": topology.parking_routing_key,
            "x-delivery-limit": 20,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }
        assert await _declare(amqp, topology.queue, arguments) == 0
        assert await _refused(amqp, topology.queue, {**arguments, "x-queue-type": "classic"})
        assert await _refused(
            amqp, topology.queue, {**arguments, "x-dead-letter-exchange": "elsewhere"}
        )
        assert await _refused(amqp, topology.queue, {**arguments, "x-delivery-limit": 3})


async def test_one_retry_queue_per_delay_dead_letters_back_to_the_service_queue(
    amqp: AbstractRobustConnection,
) -> None:
    async with running(testkit.spec, run_timers=False) as service:
        topology = service.runtime.topology
        assert topology.retry_delays_ms == (200, 400)
        for delay in topology.retry_delays_ms:
            name = topology.retry_queue(delay)
            arguments = topology.retry_queue_arguments(delay)
            assert arguments == {
                "x-message-ttl": delay,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": topology.queue,
            }
            assert await _declare(amqp, name, None) == 0
            assert await _declare(amqp, name, arguments) == 0
            assert await _refused(amqp, name, {**arguments, "x-message-ttl": delay + 1})


async def test_parking_queue_is_a_durable_quorum_queue(amqp: AbstractRobustConnection) -> None:
    async with running(testkit.spec, run_timers=False) as service:
        topology = service.runtime.topology
        assert await _declare(amqp, topology.parking_queue, {"x-queue-type": "quorum"}) == 0
        assert await _refused(amqp, topology.parking_queue, {"x-queue-type": "classic"})


async def test_exchanges_exist_with_their_kinds(amqp: AbstractRobustConnection) -> None:
    async with running(testkit.spec, run_timers=False) as service:
        topology = service.runtime.topology
        for name, kind in (
            (topology.events_exchange, aio_pika.ExchangeType.TOPIC),
            (topology.retry_exchange, aio_pika.ExchangeType.DIRECT),
            (topology.dead_letter_exchange, aio_pika.ExchangeType.DIRECT),
        ):
            channel = await amqp.channel()
            await channel.declare_exchange(name, kind, durable=True)
            await channel.close()
            other = (
                aio_pika.ExchangeType.FANOUT
                if kind is not aio_pika.ExchangeType.FANOUT
                else aio_pika.ExchangeType.TOPIC
            )
            channel = await amqp.channel()
            with pytest.raises(ChannelPreconditionFailed):
                await channel.declare_exchange(name, other, durable=True)


async def test_message_delivered_past_the_delivery_limit_is_dead_lettered_to_parking(
    amqp: AbstractRobustConnection,
) -> None:
    """A message that keeps coming back (a consumer that dies on it every time) ends in parking
    instead of looping forever; at-least-once dead-lettering means it cannot be dropped."""
    namespace = f"dl-{uuid.uuid4().hex[:8]}"  # its own queues: the limit is a queue argument
    async with running(
        testkit.spec,
        run_timers=False,
        run_consumers=False,
        delivery_limit=2,
        broker_namespace=namespace,
    ) as service:
        topology = service.runtime.topology
    # The service declared its topology; no consumer is attached, so this test plays it.
    channel = await amqp.channel()
    try:
        queue = await channel.get_queue(topology.queue)
        await channel.default_exchange.publish(
            aio_pika.Message(b"poison", message_id="poison-1"), routing_key=topology.queue
        )
        for _ in range(3):
            message = await queue.get(timeout=5)
            await message.nack(requeue=True)

        parking = await channel.get_queue(topology.parking_queue)
        parked = None
        for _ in range(50):
            parked = await parking.get(fail=False)
            if parked is not None:
                break
            await asyncio.sleep(0.1)
        assert parked is not None
        assert parked.body == b"poison"
        await parked.ack()
        assert await queue.get(fail=False) is None
    finally:
        for name in topology.all_queues():
            await channel.queue_delete(name)
        for exchange in (topology.events_exchange, topology.retry_exchange):
            await channel.exchange_delete(exchange)
        await channel.exchange_delete(topology.dead_letter_exchange)
        await channel.close()
