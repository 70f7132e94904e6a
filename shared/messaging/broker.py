"""One robust AMQP connection per process: a confirming channel for publishing and a channel for
consuming. Connecting runs in the background, so the service starts (and says it is not ready)
while RabbitMQ is down, and comes back by itself after a broker restart."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractIncomingMessage,
    AbstractRobustChannel,
    AbstractRobustConnection,
    AbstractRobustExchange,
    AbstractRobustQueue,
)

from shared.events.envelope import CONTENT_TYPE
from shared.logging import get_logger
from shared.messaging.topology import Topology

log = get_logger(__name__)

MessageCallback = Callable[[AbstractIncomingMessage], Awaitable[None]]


@dataclass(frozen=True)
class OutgoingMessage:
    routing_key: str
    body: bytes
    message_id: str
    event_type: str
    headers: dict[str, Any] | None = None


class BrokerNotReady(RuntimeError):
    pass


class Broker:
    """Declares the topology, publishes with confirms and runs the service's consumer."""

    def __init__(
        self,
        *,
        url: str,
        topology: Topology,
        prefetch: int,
        reconnect_interval_s: float,
        publish_timeout_s: float = 10.0,
    ) -> None:
        self._url = url
        self.topology = topology
        self._prefetch = prefetch
        self._reconnect_interval_s = reconnect_interval_s
        self._publish_timeout_s = publish_timeout_s
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractRobustChannel | None = None
        self._consume_channel: AbstractRobustChannel | None = None
        self._exchanges: dict[str, AbstractRobustExchange] = {}
        self._queue: AbstractRobustQueue | None = None
        self._consumer_tag: str | None = None
        self._ready = asyncio.Event()
        self._ready_callbacks: list[Callable[[], None]] = []
        self._start_task: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def on_ready(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever the broker becomes usable: after the first connection and
        after every reconnection (the relay uses it to publish what piled up meanwhile)."""
        self._ready_callbacks.append(callback)

    def _notify_ready(self, *_: Any) -> None:
        for callback in self._ready_callbacks:
            callback()

    def start(self, *, routing_keys: Iterable[str], on_message: MessageCallback | None) -> None:
        """Connect, declare and (if given a callback) consume, retrying in the background."""
        keys = sorted(set(routing_keys))
        self._start_task = asyncio.create_task(
            self._start(keys, on_message), name=f"broker-start-{self.topology.service}"
        )

    async def _start(self, routing_keys: list[str], on_message: MessageCallback | None) -> None:
        while True:
            try:
                await self._connect_and_declare(routing_keys, on_message)
                self._ready.set()
                log.info("broker.ready", queue=self.topology.queue, bindings=routing_keys)
                self._notify_ready()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("broker.connect_failed", error=type(exc).__name__, detail=str(exc))
                await self._close_quietly()
                await asyncio.sleep(self._reconnect_interval_s)

    async def _connect_and_declare(
        self, routing_keys: list[str], on_message: MessageCallback | None
    ) -> None:
        connection = await aio_pika.connect_robust(
            self._url,
            reconnect_interval=self._reconnect_interval_s,
            client_properties={
                "connection_name": f"{self.topology.service}@{socket.gethostname()}:{os.getpid()}"
            },
        )
        self._connection = connection
        connection.reconnect_callbacks.add(self._notify_ready)
        # Unroutable mandatory messages fail their publish instead of vanishing (see publish_one).
        self._publish_channel = await connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        channel: AbstractRobustChannel = await connection.channel(publisher_confirms=False)
        self._consume_channel = channel
        await channel.set_qos(prefetch_count=self._prefetch)
        await self._declare(channel, routing_keys)
        if on_message is not None and self._queue is not None:
            self._consumer_tag = await self._queue.consume(on_message, no_ack=False)

    async def _declare(self, channel: AbstractRobustChannel, routing_keys: list[str]) -> None:
        t = self.topology
        publish = self._publish_channel
        assert publish is not None
        for name, kind in (
            (t.events_exchange, aio_pika.ExchangeType.TOPIC),
            (t.retry_exchange, aio_pika.ExchangeType.DIRECT),
            (t.dead_letter_exchange, aio_pika.ExchangeType.DIRECT),
        ):
            self._exchanges[name] = await publish.declare_exchange(name, kind, durable=True)
        parked = await channel.declare_queue(
            t.parking_queue, durable=True, arguments=t.parking_queue_arguments()
        )
        await parked.bind(t.dead_letter_exchange, routing_key=t.parking_routing_key)
        queue = await channel.declare_queue(t.queue, durable=True, arguments=t.queue_arguments())
        for key in routing_keys:
            await queue.bind(t.events_exchange, routing_key=key)
        for delay in t.retry_delays_ms:
            retry_queue = await channel.declare_queue(
                t.retry_queue(delay), durable=True, arguments=t.retry_queue_arguments(delay)
            )
            await retry_queue.bind(t.retry_exchange, routing_key=t.retry_routing_key(delay))
        self._queue = queue

    async def _close_quietly(self) -> None:
        connection, self._connection = self._connection, None
        self._exchanges.clear()
        self._queue = None
        self._consumer_tag = None
        if connection is not None:
            try:
                await connection.close()
            except Exception as exc:  # closing a half-open connection may fail; nothing to do
                log.debug("broker.close_failed", error=type(exc).__name__)

    async def stop_consuming(self) -> None:
        """Cancel the consumer so no new deliveries arrive (in-flight ones may still finish)."""
        if self._queue is not None and self._consumer_tag is not None:
            try:
                await asyncio.wait_for(self._queue.cancel(self._consumer_tag), timeout=5)
            except Exception as exc:
                log.debug("broker.cancel_failed", error=type(exc).__name__)
            self._consumer_tag = None

    async def close(self) -> None:
        if self._start_task is not None:
            self._start_task.cancel()
            await asyncio.gather(self._start_task, return_exceptions=True)
        await self._close_quietly()

    # -- state ----------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        connection = self._connection
        return (
            self._ready.is_set()
            and connection is not None
            and not connection.is_closed
            and connection.connected.is_set()
            and self._publish_channel is not None
            and not self._publish_channel.is_closed
        )

    async def wait_ready(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def consumer_attached(self) -> bool:
        """True when this process's consumer is registered on a live channel."""
        channel, tag = self._consume_channel, self._consumer_tag
        if not self.connected or channel is None or tag is None or channel.is_closed:
            return False
        try:
            underlay = await asyncio.wait_for(channel.get_underlay_channel(), timeout=0.5)
        except (TimeoutError, Exception):
            return False
        # aiormq's Channel keeps its consumers by tag; its abstract type does not declare them.
        consumers: dict[str, Any] = getattr(underlay, "consumers", {})
        return not underlay.is_closed and tag in consumers

    # -- publishing -----------------------------------------------------------------------

    async def publish_batch(
        self,
        messages: Sequence[OutgoingMessage],
        exchange: str | None = None,
        *,
        mandatory: bool = False,
    ) -> list[BaseException | None]:
        """Publish all, waiting for the broker's confirms; one result per message (None = ok).

        Events go out with ``mandatory=False``: one that no service consumes is simply dropped.
        With ``mandatory=True`` a message no queue would take fails instead."""
        if not self.connected:
            raise BrokerNotReady("broker not connected")
        target = self._exchanges[exchange or self.topology.events_exchange]

        async def publish(message: OutgoingMessage) -> None:
            await target.publish(
                aio_pika.Message(
                    message.body,
                    content_type=CONTENT_TYPE,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    message_id=message.message_id,
                    type=message.event_type,
                    headers=message.headers or {},
                ),
                routing_key=message.routing_key,
                mandatory=mandatory,
            )

        outcomes = await asyncio.wait_for(
            asyncio.gather(*(publish(m) for m in messages), return_exceptions=True),
            timeout=self._publish_timeout_s,
        )
        return [o if isinstance(o, BaseException) else None for o in outcomes]

    async def publish_one(self, message: OutgoingMessage, exchange: str) -> None:
        """Publish one message that must reach a queue (a retry or a parked message): raises
        if the broker does not confirm it or no queue is bound for it, so the caller keeps the
        original rather than acknowledging it into nowhere."""
        (outcome,) = await self.publish_batch([message], exchange=exchange, mandatory=True)
        if outcome is not None:
            raise outcome
