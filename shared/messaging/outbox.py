"""The transactional outbox: events are rows written in the same transaction as the change they
describe, then published by a relay.

The relay is woken by a NOTIFY (sent by a trigger on insert, so writers pay no extra round trip)
and polls as a fallback. It claims unpublished rows with ``FOR UPDATE SKIP LOCKED`` (so replicas
share the work), publishes a batch with publisher confirms, and marks only confirmed rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from shared import context
from shared.clock import Clock
from shared.db.engine import Database
from shared.db.listener import Listener
from shared.events.envelope import CloudEvent, EventData
from shared.logging import get_logger
from shared.messaging.broker import Broker, OutgoingMessage
from shared.metrics import (
    EVENTS_PUBLISH_FAILURES,
    EVENTS_PUBLISHED,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
)

log = get_logger(__name__)


def notify_channel(schema: str) -> str:
    return f"{schema}_outbox"


class OutboxWriter:
    """Builds CloudEvents envelopes and stores them in the service's outbox table."""

    def __init__(self, *, service: str, table: sa.Table, clock: Clock) -> None:
        self._service = service
        self._source = f"/{service}"
        self._table = table
        self._clock = clock
        # Built once: constructing the statement per event cost more CPU than running it.
        self._insert = sa.insert(table)

    def envelope(self, data: EventData, *, subject: str, sequence: int | None) -> CloudEvent:
        if data.producer != self._service:
            raise ValueError(f"{self._service} may not emit {data.event_type}")
        return CloudEvent(
            id=uuid.uuid4(),
            source=self._source,
            type=data.event_type,
            time=self._clock.now(),
            subject=subject,
            data=data.model_dump(mode="json"),
            correlationid=context.correlation_id.get(),
            traceparent=context.traceparent.get(),
            sequence=sequence,
        )

    async def add(
        self, session: AsyncSession, data: EventData, *, subject: str, sequence: int | None = None
    ) -> CloudEvent:
        event = self.envelope(data, subject=subject, sequence=sequence)
        await session.execute(self._insert, _row(event))
        return event

    async def add_many(
        self, session: AsyncSession, items: Sequence[tuple[EventData, str, int | None]]
    ) -> list[CloudEvent]:
        """Store several events, each ``(data, subject, sequence)``, in one statement."""
        events = [
            self.envelope(data, subject=subject, sequence=sequence)
            for data, subject, sequence in items
        ]
        if events:
            await session.execute(self._insert, [_row(event) for event in events])
        return events


def _row(event: CloudEvent) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "event_type": event.type,
        "subject": event.subject,
        "payload": event.model_dump(mode="json", exclude_none=True),
    }


class OutboxRelay:
    """Publishes the outbox; one per process, any number of processes."""

    def __init__(
        self,
        *,
        service: str,
        schema: str,
        db: Database,
        table: sa.Table,
        broker: Broker,
        batch_size: int,
        poll_interval_s: float,
    ) -> None:
        self._service = service
        self._db = db
        self._table = table
        self._broker = broker
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._channel = notify_channel(schema)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._listener = Listener(
            db, channel=self._channel, wake=self.wake, name=f"{service}-outbox-listener"
        )
        self._last_pass: float | None = None  # none yet: not alive until the first pass
        self._last_metrics = 0.0
        # The backlog gauges are counted at most this often (not on every NOTIFY under load),
        # and a skipped count is made up soon after, so they are never stale for a whole poll.
        self._metrics_every_s = min(1.0, poll_interval_s)
        # Built once. The marks take the ids as one array parameter: an IN list would be a new
        # statement (prepared again) for every batch size.
        t = table
        self._claim = (
            sa.select(t.c.id, t.c.event_id, t.c.event_type, sa.cast(t.c.payload, sa.Text))
            .where(t.c.published_at.is_(None))
            .order_by(t.c.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        ids = sa.bindparam("ids", type_=ARRAY(sa.BigInteger))
        self._mark_published = (
            sa.update(t).where(t.c.id == sa.any_(ids)).values(published_at=sa.func.now())
        )
        self._mark_failed = (
            sa.update(t)
            .where(t.c.id == sa.any_(ids))
            .values(attempts=t.c.attempts + 1, last_error=sa.bindparam("error"))
        )

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._service}")

    async def stop(self, timeout: float = 10.0) -> None:
        """End the loop after the batch under way: a batch cut off between publishing and
        marking its rows would be published again by the next relay."""
        task, self._task = self._task, None
        if task is not None:
            self._stopping = True
            self._wake.set()
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                log.warning("outbox.stop_timeout")
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self._listener.close()

    @property
    def alive(self) -> bool:
        """The loop runs and has finished a pass (listening set up) recently."""
        stale_after = max(10 * self._poll_interval_s, 30.0)
        last_pass = self._last_pass
        return (
            self._task is not None
            and not self._task.done()
            and last_pass is not None
            and time.monotonic() - last_pass < stale_after
        )

    def wake(self) -> None:
        self._wake.set()

    # -- loop ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            # Listen before the pass, so a row committed after the pass's query is announced.
            # Without a listener the relay still polls.
            try:
                await self._listener.ensure()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox.listen_failed", error=type(exc).__name__, detail=str(exc)[:200])
            timeout = self._poll_interval_s
            try:
                while True:
                    claimed, failed = await self._relay_batch()
                    # A full batch means more may be waiting; a failing one is retried on the
                    # next wake-up rather than in a tight loop.
                    if claimed < self._batch_size or failed or self._stopping:
                        break
                if not await self._update_metrics():
                    timeout = min(timeout, self._metrics_every_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                EVENTS_PUBLISH_FAILURES.labels(self._service).inc()
                log.warning("outbox.relay_failed", error=type(exc).__name__, detail=str(exc)[:200])
            self._last_pass = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            self._wake.clear()

    async def relay_once(self) -> int:
        """Publish one batch of unpublished rows; returns how many were claimed."""
        claimed, _ = await self._relay_batch()
        return claimed

    async def _relay_batch(self) -> tuple[int, int]:
        """One batch: (rows claimed, rows the broker did not confirm)."""
        if not self._broker.connected:
            return 0, 0
        async with self._db.engine.connect() as connection, connection.begin():
            rows = (await connection.execute(self._claim)).all()
            if not rows:
                return 0, 0
            messages = [
                OutgoingMessage(
                    routing_key=row.event_type,
                    body=row[3].encode(),
                    message_id=str(row.event_id),
                    event_type=row.event_type,
                )
                for row in rows
            ]
            outcomes = await self._broker.publish_batch(messages)
            confirmed = [row.id for row, error in zip(rows, outcomes, strict=True) if error is None]
            failed = [(row.id, error) for row, error in zip(rows, outcomes, strict=True) if error]
            if confirmed:
                await connection.execute(self._mark_published, {"ids": confirmed})
                published = Counter(
                    row.event_type
                    for row, error in zip(rows, outcomes, strict=True)
                    if error is None
                )
                for event_type, count in published.items():
                    EVENTS_PUBLISHED.labels(self._service, event_type).inc(count)
            if failed:
                EVENTS_PUBLISH_FAILURES.labels(self._service).inc()
                first_error = failed[0][1]
                await connection.execute(
                    self._mark_failed,
                    {
                        "ids": [row_id for row_id, _ in failed],
                        "error": type(first_error).__name__,
                    },
                )
                log.warning(
                    "outbox.publish_nacked", count=len(failed), error=type(first_error).__name__
                )
        return len(rows), len(failed)

    async def _update_metrics(self) -> bool:
        """Count the backlog for the gauges; False when skipped as too soon after the last."""
        now = time.monotonic()
        if now - self._last_metrics < self._metrics_every_s:
            return False
        self._last_metrics = now
        t = self._table
        async with self._db.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(
                        sa.func.count(),
                        sa.func.extract("epoch", sa.func.now() - sa.func.min(t.c.created_at)),
                    ).where(t.c.published_at.is_(None))
                )
            ).one()
        OUTBOX_BACKLOG.labels(self._service).set(row[0])
        OUTBOX_OLDEST_AGE.labels(self._service).set(float(row[1] or 0.0))
        return True
