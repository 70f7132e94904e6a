"""The inbox consumer: each event's effects and its inbox rows commit in one transaction, and
the message is acknowledged only after that commit, so a redelivered event has no second effect.

A handler that raises is retried through the delayed-retry queues and parked after the last
attempt; a message that cannot be parsed is parked at once. Either way the consumer goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from aio_pika.abc import AbstractIncomingMessage
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared import context
from shared.clock import Clock
from shared.db.engine import Database
from shared.events.envelope import CloudEvent, EventData, ReceivedEvent
from shared.logging import get_logger
from shared.messaging.broker import Broker, OutgoingMessage
from shared.messaging.outbox import OutboxWriter
from shared.metrics import (
    EVENT_HANDLING_DURATION,
    EVENTS_CONSUMED,
    EVENTS_DELAYED,
    EVENTS_PARKED,
    EVENTS_RETRIED,
    INBOX_DUPLICATES,
)
from shared.timers import Timers
from shared.unit import UnitOfWork

log = get_logger(__name__)

D = TypeVar("D", bound=EventData)
Handler = Callable[[UnitOfWork, ReceivedEvent[Any]], Awaitable[None]]

ATTEMPT_HEADER = "x-attempt"
_HANDLER_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$")
REASON_HEADER = "x-parked-reason"


@dataclass(frozen=True)
class HandlerSpec:
    name: str
    model: type[EventData]
    fn: Handler


class EventHandlers:
    """A service's registry of event handlers (``consumers.py`` fills it with ``@handlers.on``)."""

    def __init__(self) -> None:
        self._by_type: dict[str, list[HandlerSpec]] = {}

    def on(
        self, model: type[D], *, name: str
    ) -> Callable[
        [Callable[[UnitOfWork, ReceivedEvent[D]], Awaitable[None]]],
        Callable[[UnitOfWork, ReceivedEvent[D]], Awaitable[None]],
    ]:
        """Register a handler. ``name`` is stored with every event it handles (the inbox key), so
        it is explicit and stable: renaming or moving the function must not make old events
        look new."""

        def register(
            fn: Callable[[UnitOfWork, ReceivedEvent[D]], Awaitable[None]],
        ) -> Callable[[UnitOfWork, ReceivedEvent[D]], Awaitable[None]]:
            if not _HANDLER_NAME.match(name):
                raise ValueError(f"handler name {name!r} must look like 'service.what_it_does'")
            specs = self._by_type.setdefault(model.event_type, [])
            if any(spec.name == name for spec in specs):
                raise ValueError(f"handler {name} registered twice")
            if specs and specs[0].model is not model:
                raise ValueError(f"{model.event_type} is already handled with another data model")
            specs.append(HandlerSpec(name, model, fn))
            return fn

        return register

    @property
    def event_types(self) -> list[str]:
        return sorted(self._by_type)

    def for_type(self, event_type: str) -> list[HandlerSpec]:
        return self._by_type.get(event_type, [])


class _Poison(Exception):
    """The message can never be handled; park it without retrying."""


class Consumer:
    """Runs a service's handlers for the messages on its queue."""

    def __init__(
        self,
        *,
        service: str,
        db: Database,
        inbox: sa.Table,
        handlers: EventHandlers,
        broker: Broker,
        outbox: OutboxWriter,
        timers: Timers,
        clock: Clock,
        concurrency: int,
    ) -> None:
        self._service = service
        self._db = db
        self._inbox = inbox
        self._handlers = handlers
        self._broker = broker
        self._outbox = outbox
        self._timers = timers
        self._clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False
        self._stop_requested = asyncio.Event()

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        self._in_flight += 1
        self._idle.clear()
        try:
            async with self._slots:
                if self._stopping:
                    await self._give_back(message)
                    return
                await self._process(message)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    def stop(self) -> None:
        """Start no more handlers: prefetched messages still waiting for a slot go back to the
        queue at once (for another replica), instead of holding up the shutdown."""
        self._stopping = True
        self._stop_requested.set()

    async def _give_back(self, message: AbstractIncomingMessage) -> None:
        try:
            await message.nack(requeue=True)
        except Exception as error:  # channel gone: the broker requeues it by itself
            log.debug("consumer.nack_failed", error=type(error).__name__)

    async def drain(self, timeout: float) -> None:
        """Wait for messages being handled to finish (used on shutdown)."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            log.warning("consumer.drain_timeout", in_flight=self._in_flight)

    async def _process(self, message: AbstractIncomingMessage) -> None:
        started = time.perf_counter()
        event_type = message.type or "unknown"
        try:
            envelope, specs, data = self._parse(message)
        except _Poison as poison:
            await self._park(message, event_type, reason=str(poison))
            return
        event_type = envelope.type
        with context.bound(
            correlation_id=envelope.correlationid,
            traceparent=envelope.traceparent,
            event_id=str(envelope.id),
            event_type=envelope.type,
        ):
            try:
                outcome = await self._handle_when_database_is_up(envelope, data, specs)
            except Exception as exc:
                await self._retry_or_park(message, envelope.type, exc)
                return
            if outcome is None:
                await self._give_back(message)
                return
            await message.ack()
            elapsed = time.perf_counter() - started
            EVENTS_CONSUMED.labels(self._service, event_type, outcome).inc()
            EVENT_HANDLING_DURATION.labels(self._service, event_type).observe(elapsed)
            log.info("event.handled", outcome=outcome, duration_ms=round(elapsed * 1000, 2))

    def _parse(
        self, message: AbstractIncomingMessage
    ) -> tuple[CloudEvent, list[HandlerSpec], EventData]:
        try:
            envelope = CloudEvent.model_validate_json(message.body)
        except ValidationError as exc:
            raise _Poison(f"invalid envelope: {_summarise(exc)}") from exc
        specs = self._handlers.for_type(envelope.type)
        if not specs:
            raise _Poison(f"no handler for event type {envelope.type}")
        try:
            data = specs[0].model.model_validate(envelope.data)
        except ValidationError as exc:
            raise _Poison(f"invalid data for {envelope.type}: {_summarise(exc)}") from exc
        return envelope, specs, data

    async def _handle_when_database_is_up(
        self, envelope: CloudEvent, data: EventData, specs: list[HandlerSpec]
    ) -> str | None:
        """Handle the event. While the database is unreachable, wait and try again without
        counting an attempt: an outage is not the event's fault, and retrying it through the
        retry queues would park every event that arrives during a failover. None: the
        service is stopping during an outage, so the event goes back to the queue."""
        pause = 0.5
        while True:
            try:
                return await self._handle(envelope, data, specs)
            except Exception:
                if await self._database_reachable():
                    raise
            if self._stop_requested.is_set():
                return None
            EVENTS_DELAYED.labels(self._service, envelope.type).inc()
            log.warning("consumer.database_unreachable", retry_in_s=pause)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), timeout=pause)
            pause = min(2 * pause, 10.0)

    async def _database_reachable(self) -> bool:
        try:
            await asyncio.wait_for(self._db.ping(), timeout=2)
        except Exception:
            return False
        return True

    async def _handle(self, envelope: CloudEvent, data: EventData, specs: list[HandlerSpec]) -> str:
        received: ReceivedEvent[Any] = ReceivedEvent(envelope=envelope, data=data)
        outcome = "duplicate"
        async with self._db.transaction() as session:
            unit = UnitOfWork(session, self._outbox, self._timers, self._clock)
            for spec in specs:
                claimed = await session.execute(
                    pg_insert(self._inbox)
                    .values(event_id=envelope.id, handler=spec.name, event_type=envelope.type)
                    .on_conflict_do_nothing()
                    .returning(self._inbox.c.event_id)
                )
                if claimed.first() is None:
                    INBOX_DUPLICATES.labels(self._service, envelope.type).inc()
                    continue
                await spec.fn(unit, received)
                outcome = "handled"
        return outcome

    async def _retry_or_park(
        self, message: AbstractIncomingMessage, event_type: str, exc: Exception
    ) -> None:
        attempt = _attempt(message)
        delays = self._broker.topology.retry_delays_ms
        if attempt < len(delays):
            delay = delays[attempt]
            log.warning(
                "consumer.handler_failed",
                attempt=attempt + 1,
                retry_in_ms=delay,
                error=type(exc).__name__,
                exc_info=exc,
            )
            try:
                await self._broker.publish_one(
                    _copy(
                        message,
                        {ATTEMPT_HEADER: attempt + 1},
                        self._broker.topology.retry_routing_key(delay),
                    ),
                    exchange=self._broker.topology.retry_exchange,
                )
            except Exception as publish_error:
                await self._requeue(message, publish_error)
                return
            await message.ack()
            EVENTS_RETRIED.labels(self._service, event_type).inc()
            EVENTS_CONSUMED.labels(self._service, event_type, "retried").inc()
            return
        log.error(
            "consumer.handler_failed_finally",
            attempts=attempt + 1,
            error=type(exc).__name__,
            exc_info=exc,
        )
        await self._park(message, event_type, reason=f"handler failed: {type(exc).__name__}: {exc}")

    async def _park(
        self, message: AbstractIncomingMessage, event_type: str, *, reason: str
    ) -> None:
        reason = reason[:500]
        log.error("consumer.parked", event_type=event_type, reason=reason.split(":", 1)[0])
        try:
            await self._broker.publish_one(
                _copy(
                    message,
                    {REASON_HEADER: reason, ATTEMPT_HEADER: _attempt(message)},
                    self._broker.topology.parking_routing_key,
                ),
                exchange=self._broker.topology.dead_letter_exchange,
            )
        except Exception as publish_error:
            await self._requeue(message, publish_error)
            return
        await message.ack()
        EVENTS_PARKED.labels(self._service, event_type, reason.split(":", 1)[0]).inc()
        EVENTS_CONSUMED.labels(self._service, event_type, "parked").inc()

    async def _requeue(self, message: AbstractIncomingMessage, error: Exception) -> None:
        # Could not move the message on; give it back so nothing is lost. The quorum queue's
        # delivery limit stops this from looping forever.
        log.warning("consumer.requeue", error=type(error).__name__)
        EVENTS_CONSUMED.labels(self._service, message.type or "unknown", "requeued").inc()
        await asyncio.sleep(1.0)
        try:
            await message.nack(requeue=True)
        except Exception as nack_error:  # channel gone: the broker redelivers by itself
            log.debug("consumer.nack_failed", error=type(nack_error).__name__)


def _attempt(message: AbstractIncomingMessage) -> int:
    value = (message.headers or {}).get(ATTEMPT_HEADER, 0)
    return value if isinstance(value, int) and value >= 0 else 0


def _copy(
    message: AbstractIncomingMessage, headers: dict[str, Any], routing_key: str
) -> OutgoingMessage:
    kept = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-death")}
    kept.update(headers)
    kept.setdefault("x-original-routing-key", message.routing_key or "")
    return OutgoingMessage(
        routing_key=routing_key,
        body=message.body,
        # Confirms of returned messages are matched by message id, so copies need one.
        message_id=message.message_id or uuid.uuid4().hex,
        event_type=message.type or "",
        headers=kept,
    )


def _summarise(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
        for err in exc.errors()[:5]
    )
