"""Direct access to the test run's RabbitMQ namespace: publish raw messages, read queues."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection

from shared.messaging.topology import Topology
from tests.support import environment


def topology(service: str) -> Topology:
    return Topology(
        namespace=environment.BROKER_NAMESPACE,
        service=service,
        retry_delays_ms=(200, 400),
        delivery_limit=20,
    )


async def publish(
    connection: AbstractRobustConnection,
    body: bytes,
    *,
    routing_key: str,
    headers: dict[str, Any] | None = None,
    message_type: str | None = None,
) -> None:
    channel = await connection.channel(publisher_confirms=True)
    try:
        exchange = await channel.get_exchange(f"{environment.BROKER_NAMESPACE}.events")
        await exchange.publish(
            aio_pika.Message(
                body,
                headers=headers or {},
                type=message_type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=routing_key,
        )
    finally:
        await channel.close()


async def drain(
    connection: AbstractRobustConnection, queue_name: str
) -> list[aio_pika.abc.AbstractIncomingMessage]:
    """Take every message currently in a queue (acking them)."""
    channel = await connection.channel()
    messages = []
    try:
        queue = await channel.declare_queue(queue_name, passive=True)
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            await message.ack()
            messages.append(message)
    finally:
        with contextlib.suppress(Exception):
            await channel.close()
    return messages


async def purge(connection: AbstractRobustConnection, queue_names: Sequence[str]) -> None:
    for name in queue_names:
        channel = await connection.channel()
        try:
            queue = await channel.declare_queue(name, passive=True)
            await queue.purge()
        except Exception:  # noqa: S110 - queue not declared yet in this run
            pass
        finally:
            with contextlib.suppress(Exception):
                await channel.close()


async def delete_namespace(connection: AbstractRobustConnection, services: Sequence[str]) -> None:
    """Remove the run's queues and exchanges from the broker."""
    for service in services:
        for name in [*topology(service).all_queues()]:
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.queue_delete(name)
            with contextlib.suppress(Exception):
                await channel.close()
    for suffix in ("events", "retry", "dlx"):
        channel = await connection.channel()
        with contextlib.suppress(Exception):
            await channel.exchange_delete(f"{environment.BROKER_NAMESPACE}.{suffix}")
        with contextlib.suppress(Exception):
            await channel.close()


@asynccontextmanager
async def tap(
    connection: AbstractRobustConnection, *routing_keys: str
) -> AsyncIterator[AbstractQueue]:
    """A private queue that gets a copy of every event published with the given routing keys
    (declared before anything is published, so it sees all of them)."""
    channel = await connection.channel()
    try:
        exchange = await channel.declare_exchange(
            f"{environment.BROKER_NAMESPACE}.events", aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True)
        try:
            for key in routing_keys:
                await queue.bind(exchange, routing_key=key)
            yield queue
        finally:
            # Exclusive queues live as long as the (session-wide) connection: delete it now.
            with contextlib.suppress(Exception):
                await queue.delete(if_unused=False, if_empty=False)
    finally:
        with contextlib.suppress(Exception):
            await channel.close()


async def take(queue: AbstractQueue) -> list[AbstractIncomingMessage]:
    """Every message waiting in ``queue`` right now (acknowledged)."""
    messages: list[AbstractIncomingMessage] = []
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        messages.append(message)
    return messages


async def message_count(connection: AbstractRobustConnection, queue_name: str) -> int:
    """How many messages are ready in a queue (not counting those delivered and unacked)."""
    channel = await connection.channel()
    try:
        queue = await channel.declare_queue(queue_name, passive=True)
        return queue.declaration_result.message_count or 0
    finally:
        with contextlib.suppress(Exception):
            await channel.close()
