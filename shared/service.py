"""What a service is made of (``ServiceSpec``) and what runs inside one process (``Runtime``):
database, broker, outbox relay, consumer, timer runner and housekeeping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import APIRouter
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.link_tokens import LinkTokens
from shared.auth.principal import TokenVerifier
from shared.clock import Clock
from shared.db.engine import Database
from shared.db.infra import InfraTables
from shared.housekeeping import Retention, prune
from shared.key_rotation import KeyRotation
from shared.logging import get_logger
from shared.messaging.broker import Broker
from shared.messaging.consumer import Consumer, EventHandlers
from shared.messaging.outbox import OutboxRelay, OutboxWriter
from shared.messaging.topology import Topology
from shared.settings import ServiceSettings
from shared.timers import TimerHandlers, TimerRunner, Timers
from shared.unit import UnitOfWork

log = get_logger(__name__)


class Worker(Protocol):
    """A service's own background loop (the notifier's dispatcher, say), started and stopped
    with the process and counted in readiness."""

    name: str

    def start(self) -> None: ...

    async def stop(self) -> None: ...

    @property
    def alive(self) -> bool: ...


WorkerFactory = Callable[["Runtime"], Worker]


@dataclass(frozen=True)
class ServiceSpec:
    """Everything the shared runtime needs to know about one service."""

    name: str
    title: str
    description: str
    version: str
    settings_class: type[ServiceSettings]
    metadata: MetaData
    infra: InfraTables
    migrations_dir: Path  # the service's Alembic revisions
    routers: Sequence[APIRouter] = ()
    handlers: EventHandlers = field(default_factory=EventHandlers)
    timer_handlers: TimerHandlers = field(default_factory=TimerHandlers)
    openapi_tags: Sequence[dict[str, Any]] = ()
    extensions: Sequence[str] = ()
    workers: Sequence[WorkerFactory] = ()
    # One per table holding personal data encrypted with the PII keys (``rotate-keys``).
    key_rotations: Sequence[KeyRotation] = ()
    # Service tables whose old rows housekeeping deletes.
    retention: Sequence[Retention] = ()


class Runtime:
    def __init__(self, spec: ServiceSpec, settings: ServiceSettings, clock: Clock) -> None:
        self.spec = spec
        self.settings = settings
        self.clock = clock
        self.db = Database(settings)
        self.outbox = OutboxWriter(service=spec.name, table=spec.infra.outbox, clock=clock)
        self.timers = Timers(spec.infra.timers)
        self.tokens = TokenVerifier(settings)
        self.link_tokens = (
            LinkTokens(spec.infra.link_tokens, clock)
            if spec.infra.link_tokens is not None
            else None
        )
        self.topology = Topology(
            namespace=settings.broker_namespace,
            service=spec.name,
            retry_delays_ms=tuple(settings.retry_delays_ms),
            delivery_limit=settings.delivery_limit,
        )
        consumes = settings.run_consumers and bool(spec.handlers.event_types)
        self.broker: Broker | None = None
        if settings.run_relay or consumes:
            self.broker = Broker(
                url=settings.amqp_url,
                topology=self.topology,
                prefetch=settings.broker_prefetch,
                reconnect_interval_s=settings.broker_reconnect_interval_s,
            )
        self.relay: OutboxRelay | None = None
        if settings.run_relay and self.broker is not None:
            self.relay = OutboxRelay(
                service=spec.name,
                schema=settings.schema,
                db=self.db,
                table=spec.infra.outbox,
                broker=self.broker,
                batch_size=settings.outbox_batch_size,
                poll_interval_s=settings.outbox_poll_interval_s,
            )
            self.broker.on_ready(self.relay.wake)
        self.consumer: Consumer | None = None
        if consumes and self.broker is not None:
            self.consumer = Consumer(
                service=spec.name,
                db=self.db,
                inbox=spec.infra.inbox,
                handlers=spec.handlers,
                broker=self.broker,
                outbox=self.outbox,
                timers=self.timers,
                clock=clock,
                settings=settings,
                concurrency=min(settings.consumer_workers, max(1, settings.db_pool_size - 2)),
                max_batch=settings.consumer_max_batch,
            )
        self.timer_runner: TimerRunner | None = None
        if settings.run_timers:
            self.timer_runner = TimerRunner(
                service=spec.name,
                db=self.db,
                table=spec.infra.timers,
                handlers=spec.timer_handlers,
                unit_factory=self.unit,
                clock=clock,
                batch_size=settings.timer_batch_size,
                max_attempts=settings.timer_max_attempts,
            )
        self.workers: list[Worker] = (
            [factory(self) for factory in spec.workers] if settings.run_workers else []
        )
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._running_jobs: set[asyncio.Task[Any]] = set()
        self._timer_drain: asyncio.Task[int] | None = None
        self._started = False

    def unit(self, session: AsyncSession) -> UnitOfWork:
        return UnitOfWork(session, self.outbox, self.timers, self.clock, self.settings)

    async def start(self) -> None:
        if self.broker is not None:
            self.broker.start(
                routing_keys=self.spec.handlers.event_types if self.consumer else [],
                on_message=self.consumer.on_message if self.consumer else None,
            )
        if self.relay is not None:
            self.relay.start()
        if self.timer_runner is not None:
            self.scheduler.add_job(
                self._timers_job,
                "interval",
                seconds=self.settings.timer_poll_interval_s,
                id="timers",
                name="timers",
                max_instances=1,
                coalesce=True,
            )
        for worker in self.workers:
            worker.start()
        self.scheduler.add_job(
            self._scheduled,
            "interval",
            args=[self.housekeeping],
            seconds=self.settings.housekeeping_interval_s,
            id="housekeeping",
            name="housekeeping",
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.start()
        self._started = True
        log.info(
            "service.started",
            relay=self.relay is not None,
            consumer=self.consumer is not None,
            timers=self.timer_runner is not None,
            workers=[worker.name for worker in self.workers],
        )

    async def _scheduled(self, job: Callable[[], Awaitable[object]]) -> None:
        """Run a scheduled job so that ``stop`` can let it finish rather than cancel it
        halfway through a transaction."""
        task = asyncio.current_task()
        if task is not None:
            self._running_jobs.add(task)
        try:
            await job()
        finally:
            if task is not None:
                self._running_jobs.discard(task)

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        if self.consumer is not None:
            self.consumer.stop()
        if self.broker is not None:
            await self.broker.stop_consuming()
        if self.consumer is not None:
            await self.consumer.drain(timeout=10)
        self.scheduler.pause()
        if self.timer_runner is not None:
            self.timer_runner.stop()
        if self._running_jobs:
            await asyncio.wait(set(self._running_jobs), timeout=10)
        for worker in self.workers:
            await worker.stop()
        self.scheduler.shutdown(wait=False)
        if self.relay is not None:
            await self.relay.stop()
        if self.broker is not None:
            await self.broker.close()
        await self.db.dispose()
        log.info("service.stopped")

    async def _timers_job(self) -> None:
        """The interval job: start draining due timers unless a drain is still working off a
        backlog. The drain runs as its own task so that this job returns at once: a drain
        longer than the interval is then not a skipped run for APScheduler to warn about."""
        if self._timer_drain is None or self._timer_drain.done():
            drain = asyncio.create_task(self.drain_timers(), name=f"timers-{self.spec.name}")
            # Tracked from creation, so that ``stop`` waits for it even if it has not started.
            self._running_jobs.add(drain)
            drain.add_done_callback(self._running_jobs.discard)
            self._timer_drain = drain

    async def tick_timers(self) -> int:
        """Handle one batch of due timers (tests call this with a ``ManualClock``)."""
        assert self.timer_runner is not None
        try:
            return await self.timer_runner.tick()
        except Exception as exc:
            log.warning("timers.tick_failed", error=type(exc).__name__, detail=str(exc)[:200])
            return 0

    async def drain_timers(self) -> int:
        """Handle batches of due timers until no full batch is left, without waiting for the
        next interval in between."""
        assert self.timer_runner is not None
        try:
            return await self.timer_runner.drain()
        except Exception as exc:
            log.warning("timers.tick_failed", error=type(exc).__name__, detail=str(exc)[:200])
            return 0

    async def housekeeping(self) -> None:
        try:
            deleted = await prune(
                self.db,
                self.spec.infra,
                self.clock,
                outbox_retention=timedelta(hours=self.settings.outbox_retention_hours),
                inbox_retention=timedelta(hours=self.settings.inbox_retention_hours),
                receipt_retention=timedelta(hours=self.settings.webhook_receipt_retention_hours),
                retention=self.spec.retention,
            )
        except Exception as exc:
            log.warning("housekeeping.failed", error=type(exc).__name__)
            return
        if any(deleted.values()):
            log.info("housekeeping.pruned", **deleted)

    async def readiness(self) -> dict[str, bool]:
        """Each check this process depends on; ready when all are true."""
        checks: dict[str, bool] = {"database": await self.db.reachable()}
        if self.broker is not None:
            checks["broker"] = self.broker.connected
        if self.consumer is not None and self.broker is not None:
            checks["consumer"] = await self.broker.consumer_attached()
        if self.relay is not None:
            checks["relay"] = self.relay.alive
        if self.timer_runner is not None:
            stale_after = max(10 * self.settings.timer_poll_interval_s, 30.0)
            checks["timers"] = (
                self.scheduler.running
                and time.monotonic() - self.timer_runner.heartbeat < stale_after
            )
        for worker in self.workers:
            checks[worker.name] = worker.alive
        return checks
