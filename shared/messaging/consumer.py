"""The inbox consumer: each event's effects and its inbox rows commit in one transaction, and
the message is acknowledged only after that commit, so a redelivered event has no second effect.

A handler that raises is retried through the delayed-retry queues and parked after the last
attempt; a message that cannot be parsed is parked at once. Either way the consumer goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from aio_pika.abc import AbstractIncomingMessage
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared import context
from shared.clock import Clock
from shared.db.engine import Database
from shared.events.envelope import CloudEvent, EventData, ReceivedEvent
from shared.logging import get_logger
from shared.messaging.broker import Broker, OutgoingMessage
from shared.messaging.outbox import OutboxWriter
from shared.metrics import (
    EVENT_BATCH_SIZE,
    EVENT_BATCHES_SPLIT,
    EVENT_HANDLING_DURATION,
    EVENTS_CONSUMED,
    EVENTS_DELAYED,
    EVENTS_PARKED,
    EVENTS_RETRIED,
    INBOX_DUPLICATES,
)
from shared.settings import ServiceSettings
from shared.timers import Timers
from shared.unit import UnitOfWork

log = get_logger(__name__)

D = TypeVar("D", bound=EventData)
Handler = Callable[[UnitOfWork, ReceivedEvent[Any]], Awaitable[None]]
BatchHandler = Callable[[UnitOfWork, list[ReceivedEvent[Any]]], Awaitable[None]]

ATTEMPT_HEADER = "x-attempt"
_HANDLER_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$")
REASON_HEADER = "x-parked-reason"


@dataclass(frozen=True)
class HandlerSpec:
    name: str
    model: type[EventData]
    fn: Handler | None = None
    # A batch handler gets every event of its type in the consumer's batch at once (after the
    # per-event handlers ran), so it can do its work in a few multi-row statements.
    batch_fn: BatchHandler | None = None
    order: int = 0


class EventHandlers:
    """A service's registry of event handlers (``consumers.py`` fills it with ``@handlers.on``)."""

    def __init__(self) -> None:
        self._by_type: dict[str, list[HandlerSpec]] = {}
        self._registered = 0

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
            self._add(model, name, fn=fn)
            return fn

        return register

    def on_batch(
        self, model: type[D], *, name: str
    ) -> Callable[
        [Callable[[UnitOfWork, list[ReceivedEvent[D]]], Awaitable[None]]],
        Callable[[UnitOfWork, list[ReceivedEvent[D]]], Awaitable[None]],
    ]:
        """Register ``async def handler(unit, events: list[ReceivedEvent]) -> None``: called
        once per consumer batch with the events of ``model``'s type it has not handled before
        (in the order they came). Batch handlers run after the per-event handlers of the batch,
        in the order they were registered, all in the batch's one transaction. One function
        registered under one name for several event types gets the batch's events of all of
        them in one call."""

        def register(
            fn: Callable[[UnitOfWork, list[ReceivedEvent[D]]], Awaitable[None]],
        ) -> Callable[[UnitOfWork, list[ReceivedEvent[D]]], Awaitable[None]]:
            self._add(model, name, batch_fn=fn)
            return fn

        return register

    def _add(
        self,
        model: type[EventData],
        name: str,
        *,
        fn: Handler | None = None,
        batch_fn: BatchHandler | None = None,
    ) -> None:
        if not _HANDLER_NAME.match(name):
            raise ValueError(f"handler name {name!r} must look like 'service.what_it_does'")
        specs = self._by_type.setdefault(model.event_type, [])
        if any(spec.name == name for spec in specs):
            raise ValueError(f"handler {name} registered twice")
        if specs and specs[0].model is not model:
            raise ValueError(f"{model.event_type} is already handled with another data model")
        # Batch handlers are grouped by name within a batch: one name, one batch function.
        for others in self._by_type.values():
            for other in others:
                batch = other.batch_fn is not None or batch_fn is not None
                if other.name == name and batch and other.batch_fn is not batch_fn:
                    raise ValueError(f"handler name {name} is taken by another function")
        self._registered += 1
        specs.append(HandlerSpec(name, model, fn, batch_fn, self._registered))

    @property
    def event_types(self) -> list[str]:
        return sorted(self._by_type)

    def for_type(self, event_type: str) -> list[HandlerSpec]:
        return self._by_type.get(event_type, [])


class _Poison(Exception):
    """The message can never be handled; park it without retrying."""


@dataclass(frozen=True)
class _Parsed:
    message: AbstractIncomingMessage
    envelope: CloudEvent
    specs: list[HandlerSpec]
    data: EventData
    started: float


class Consumer:
    """Runs a service's handlers for the messages on its queue.

    Deliveries go into a local queue that a few workers empty in batches: a worker takes every
    message waiting (up to ``max_batch``) and handles them in one transaction with one inbox
    insert, so under load the per-transaction cost is shared, and when idle a batch is one
    message and nothing waits. If anything in a batch fails, the batch rolls back and each of
    its messages is handled on its own, so only the failing one is retried or parked.
    """

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
        max_batch: int = 100,
        settings: ServiceSettings | None = None,
    ) -> None:
        self._service = service
        self._db = db
        self._inbox = inbox
        # Built once; a batch's inbox rows in one statement of one shape, whatever its size.
        rows = (
            sa.func.unnest(
                sa.bindparam("event_ids", type_=ARRAY(UUID(as_uuid=True))),
                sa.bindparam("handlers", type_=ARRAY(sa.Text)),
                sa.bindparam("event_types", type_=ARRAY(sa.Text)),
            )
            .table_valued("event_id", "handler", "event_type")
            .render_derived()
        )
        self._claim_many = (
            pg_insert(inbox)
            .from_select(
                ["event_id", "handler", "event_type"],
                sa.select(rows.c.event_id, rows.c.handler, rows.c.event_type),
            )
            .on_conflict_do_nothing()
            .returning(inbox.c.event_id, inbox.c.handler)
        )
        self._handlers = handlers
        self._known_types = frozenset(handlers.event_types)
        self._broker = broker
        self._outbox = outbox
        self._timers = timers
        self._clock = clock
        self._settings = settings
        self._workers_wanted = max(1, concurrency)
        self._max_batch = max(1, max_batch)
        self._waiting: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False
        self._stop_requested = asyncio.Event()
        # Metric series by (type, outcome), looked up once: ``labels()`` on every event cost
        # more than the increment. Bounded: only the handlers' known types get here.
        self._series: dict[tuple[str, str], tuple[Any, Any]] = {}

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        if self._stopping:
            await self._give_back(message)
            return
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._work(), name=f"consumer-{self._service}-{i}")
                for i in range(self._workers_wanted)
            ]
        self._in_flight += 1
        self._idle.clear()
        self._waiting.put_nowait(message)

    def stop(self) -> None:
        """Start no more handlers: prefetched messages still waiting for a worker go back to the
        queue at once (for another replica), instead of holding up the shutdown."""
        self._stopping = True
        self._stop_requested.set()
        while not self._waiting.empty():
            message = self._waiting.get_nowait()
            task = asyncio.create_task(self._give_back(message))
            task.add_done_callback(lambda _: self._done(1))

    async def drain(self, timeout: float) -> None:
        """Wait for messages being handled to finish (used on shutdown), then end the workers."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            log.warning("consumer.drain_timeout", in_flight=self._in_flight)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    def _done(self, count: int) -> None:
        self._in_flight -= count
        if self._in_flight <= 0:
            self._in_flight = 0
            self._idle.set()

    async def _give_back(self, message: AbstractIncomingMessage) -> None:
        try:
            await message.nack(requeue=True)
        except Exception as error:  # channel gone: the broker requeues it by itself
            log.debug("consumer.nack_failed", error=type(error).__name__)

    async def _work(self) -> None:
        while True:
            batch = [await self._waiting.get()]
            while len(batch) < self._max_batch and not self._waiting.empty():
                batch.append(self._waiting.get_nowait())
            try:
                if self._stopping:
                    await asyncio.gather(*(self._give_back(m) for m in batch))
                else:
                    await self._process_batch(batch)
            except Exception as exc:  # a bug here must not kill the worker
                log.error("consumer.batch_crashed", error=type(exc).__name__, exc_info=exc)
                await asyncio.gather(*(self._give_back(m) for m in batch))
            finally:
                self._done(len(batch))

    async def _process_batch(self, batch: list[AbstractIncomingMessage]) -> None:
        started = time.perf_counter()
        EVENT_BATCH_SIZE.labels(self._service).observe(len(batch))
        parsed: list[_Parsed] = []
        for message in batch:
            try:
                envelope, specs, data = self._parse(message)
            except _Poison as poison:
                await self._park(message, self._type_label(message), reason=str(poison))
                continue
            parsed.append(_Parsed(message, envelope, specs, data, started))
        if len(parsed) == 1:
            await self._process(parsed[0])
            return
        if not parsed:
            return
        log_each = log.is_enabled_for(logging.DEBUG)
        try:
            outcomes = await self._handle_batch(parsed)
        except Exception as exc:
            # Something in the batch failed (or the database did): handle each message alone,
            # so only the failing one is retried or parked and an outage is waited out.
            EVENT_BATCHES_SPLIT.labels(self._service).inc()
            log.warning("consumer.batch_split", size=len(parsed), error=type(exc).__name__)
            for item in parsed:
                await self._process(item)
            return
        for item, outcome in zip(parsed, outcomes, strict=True):
            await item.message.ack()
            self._count(item, outcome)
            if log_each:
                # Ids passed explicitly: binding the context per event for this line is dearer.
                log.debug(
                    "event.handled",
                    outcome=outcome,
                    event_id=str(item.envelope.id),
                    event_type=item.envelope.type,
                    correlation_id=item.envelope.correlationid,
                )
        # One line for the batch, naming its events and their correlations: at thousands of
        # events a second, a line per event was a tenth of the consumer's CPU (and of the log
        # volume). Each event also has a debug line of its own.
        log.info(
            "events.handled",
            count=len(outcomes),
            duplicates=outcomes.count("duplicate"),
            types=sorted({item.envelope.type for item in parsed}),
            event_ids=[str(item.envelope.id) for item in parsed],
            correlation_ids=sorted(
                {item.envelope.correlationid for item in parsed if item.envelope.correlationid}
            ),
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _type_label(self, message: AbstractIncomingMessage) -> str:
        # Metrics are labelled by type; only known types, so a stray producer cannot blow up
        # the number of series.
        return message.type if message.type in self._known_types else "unknown"

    @staticmethod
    def _bound(envelope: CloudEvent) -> contextlib.AbstractContextManager[None]:
        return context.bound(
            correlation_id=envelope.correlationid,
            traceparent=envelope.traceparent,
            event_id=str(envelope.id),
            event_type=envelope.type,
        )

    def _count(self, item: _Parsed, outcome: str) -> float:
        """Count a handled (or duplicate) event; its seconds from being taken off the queue."""
        elapsed = time.perf_counter() - item.started
        key = (item.envelope.type, outcome)
        series = self._series.get(key)
        if series is None:
            series = (
                EVENTS_CONSUMED.labels(self._service, item.envelope.type, outcome),
                EVENT_HANDLING_DURATION.labels(self._service, item.envelope.type),
            )
            self._series[key] = series
        series[0].inc()
        series[1].observe(elapsed)
        return elapsed

    def _handled(self, item: _Parsed, outcome: str) -> None:
        """An event handled on its own: counted, and logged with its ids (bound by the caller)."""
        elapsed = self._count(item, outcome)
        log.info("event.handled", outcome=outcome, duration_ms=round(elapsed * 1000, 2))

    async def _process(self, item: _Parsed) -> None:
        """One message on its own, with retries, parking and the database-outage wait."""
        with self._bound(item.envelope):
            try:
                outcome = await self._handle_when_database_is_up(item)
            except Exception as exc:
                await self._retry_or_park(item.message, item.envelope.type, exc)
                return
            if outcome is None:
                await self._give_back(item.message)
                return
            await item.message.ack()
            self._handled(item, outcome)

    async def _handle_batch(self, parsed: list[_Parsed]) -> list[str]:
        """All events of the batch in one transaction; raises if any handler does."""
        keys = [(item.envelope, spec) for item in parsed for spec in item.specs]
        async with self._db.transaction() as session:
            rows = await session.execute(
                self._claim_many,
                {
                    "event_ids": [envelope.id for envelope, _ in keys],
                    "handlers": [spec.name for _, spec in keys],
                    "event_types": [envelope.type for envelope, _ in keys],
                },
            )
            claimed = {(row.event_id, row.handler) for row in rows}
            unit = UnitOfWork(session, self._outbox, self._timers, self._clock, self._settings)
            outcomes = []
            batched: dict[str, tuple[HandlerSpec, list[ReceivedEvent[Any]]]] = {}
            for item in parsed:
                outcome = "duplicate"
                received: ReceivedEvent[Any] = ReceivedEvent(envelope=item.envelope, data=item.data)
                for spec in item.specs:
                    key = (item.envelope.id, spec.name)
                    if key not in claimed:  # handled before, or twice in this batch
                        INBOX_DUPLICATES.labels(self._service, item.envelope.type).inc()
                        continue
                    claimed.discard(key)
                    outcome = "handled"
                    if spec.fn is None:
                        batched.setdefault(spec.name, (spec, []))[1].append(received)
                        continue
                    with self._bound(item.envelope):  # events it emits carry its correlation
                        await spec.fn(unit, received)
                outcomes.append(outcome)
            for spec, events in sorted(batched.values(), key=lambda pair: pair[0].order):
                if spec.batch_fn is None:  # pragma: no cover - _add sets one of the two
                    continue
                if len(events) == 1:
                    with self._bound(events[0].envelope):
                        await spec.batch_fn(unit, events)
                else:
                    await spec.batch_fn(unit, events)
        return outcomes

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

    async def _handle_when_database_is_up(self, item: _Parsed) -> str | None:
        """Handle the event. While the database is unreachable, wait and try again without
        counting an attempt: an outage is not the event's fault, and retrying it through the
        retry queues would park every event that arrives during a failover. None: the
        service is stopping during an outage, so the event goes back to the queue."""
        pause = 0.5
        while True:
            try:
                (outcome,) = await self._handle_batch([item])
                return outcome
            except Exception:
                if await self._db.reachable():
                    raise
            if self._stop_requested.is_set():
                return None
            EVENTS_DELAYED.labels(self._service, item.envelope.type).inc()
            log.warning("consumer.database_unreachable", retry_in_s=pause)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), timeout=pause)
            pause = min(2 * pause, 10.0)

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
