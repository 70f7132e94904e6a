"""Durable timers: rows with a due time, claimed by every replica's interval job with
``FOR UPDATE SKIP LOCKED`` and handled in a transaction that may also write the outbox.

Scheduling is an upsert on (kind, key), so rescheduling is the same call; cancelling is a row
update. Nothing is lost on restart and nothing fires twice across replicas.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared import context
from shared.clock import Clock
from shared.db.engine import Database
from shared.logging import get_logger
from shared.metrics import TIMER_LAG, TIMERS_DUE, TIMERS_FIRED
from shared.unit import UnitOfWork

log = get_logger(__name__)

MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class DueTimer:
    id: int
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int


TimerHandler = Callable[[UnitOfWork, DueTimer], Awaitable[None]]


class TimerHandlers:
    """A service's registry of timer handlers (``timers.py`` fills it with ``@timers.on``)."""

    def __init__(self) -> None:
        self._by_kind: dict[str, TimerHandler] = {}

    def on(self, kind: str) -> Callable[[TimerHandler], TimerHandler]:
        def register(fn: TimerHandler) -> TimerHandler:
            if kind in self._by_kind:
                raise ValueError(f"timer kind {kind} registered twice")
            self._by_kind[kind] = fn
            return fn

        return register

    def get(self, kind: str) -> TimerHandler | None:
        return self._by_kind.get(kind)

    @property
    def kinds(self) -> list[str]:
        return sorted(self._by_kind)


class Timers:
    """Schedule, reschedule and cancel timers inside the caller's transaction."""

    def __init__(self, table: sa.Table) -> None:
        self._table = table

    async def schedule(
        self,
        session: AsyncSession,
        *,
        kind: str,
        key: str,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
    ) -> None:
        if due_at.tzinfo is None:
            raise ValueError("due_at must be timezone-aware")
        t = self._table
        statement = pg_insert(t).values(kind=kind, key=key, due_at=due_at, payload=payload or {})
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[t.c.kind, t.c.key],
                set_={
                    "due_at": statement.excluded.due_at,
                    "payload": statement.excluded.payload,
                    "state": "pending",
                    "attempts": 0,
                    "last_error": None,
                    "fired_at": None,
                    "updated_at": sa.func.now(),
                },
            )
        )

    async def cancel(self, session: AsyncSession, *, kind: str, key: str) -> bool:
        t = self._table
        result = await session.execute(
            sa.update(t)
            .where(t.c.kind == kind, t.c.key == key, t.c.state == "pending")
            .values(state="cancelled", updated_at=sa.func.now())
            .returning(t.c.id)
        )
        return result.first() is not None

    async def cancel_by_key_prefix(self, session: AsyncSession, *, key_prefix: str) -> int:
        """Cancel every pending timer whose key starts with the prefix (all of one aggregate)."""
        t = self._table
        escaped = key_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        result = await session.execute(
            sa.update(t)
            .where(t.c.key.like(f"{escaped}%", escape="\\"), t.c.state == "pending")
            .values(state="cancelled", updated_at=sa.func.now())
            .returning(t.c.id)
        )
        return len(result.all())

    async def get(self, session: AsyncSession, *, kind: str, key: str) -> sa.Row[Any] | None:
        t = self._table
        result = await session.execute(sa.select(t).where(t.c.kind == kind, t.c.key == key))
        return result.first()


class TimerRunner:
    """Fires due timers; ``tick`` is what every replica's APScheduler job calls."""

    def __init__(
        self,
        *,
        service: str,
        db: Database,
        table: sa.Table,
        handlers: TimerHandlers,
        unit_factory: Callable[[AsyncSession], UnitOfWork],
        clock: Clock,
        batch_size: int,
        max_attempts: int,
    ) -> None:
        self._service = service
        self._db = db
        self._table = table
        self._handlers = handlers
        self._unit_factory = unit_factory
        self._clock = clock
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._stopping = False
        self.last_tick_at: datetime | None = None

    def stop(self) -> None:
        """Let a running tick end after the timer it is handling (used on shutdown)."""
        self._stopping = True

    async def tick(self) -> int:
        """Handle up to one batch of due timers, each in its own transaction."""
        fired = 0
        for _ in range(self._batch_size):
            if self._stopping or not await self._fire_next():
                break
            fired += 1
        await self._update_due_gauge()
        self.last_tick_at = self._clock.now()
        return fired

    async def _fire_next(self) -> bool:
        t = self._table
        now = self._clock.now()
        async with self._db.transaction() as session:
            row = (
                await session.execute(
                    sa.select(t)
                    .where(t.c.state == "pending", t.c.due_at <= now)
                    .order_by(t.c.due_at, t.c.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
            ).first()
            if row is None:
                return False
            timer = DueTimer(row.id, row.kind, row.key, row.due_at, row.payload, row.attempts)
            handler = self._handlers.get(timer.kind)
            with context.bound(
                correlation_id=context.new_id(), timer_kind=timer.kind, timer_id=str(timer.id)
            ):
                if handler is None:
                    await self._finish(session, timer, "failed", error="no handler for this kind")
                    return True
                try:
                    async with session.begin_nested():
                        await handler(self._unit_factory(session), timer)
                except Exception as exc:
                    await self._failed(session, timer, exc)
                    return True
                await self._finish(session, timer, "done")
                TIMER_LAG.labels(self._service, timer.kind).observe(
                    max(0.0, (now - timer.due_at).total_seconds())
                )
        return True

    async def _finish(
        self, session: AsyncSession, timer: DueTimer, state: str, *, error: str | None = None
    ) -> None:
        t = self._table
        await session.execute(
            sa.update(t)
            .where(t.c.id == timer.id)
            .values(
                state=state,
                fired_at=self._clock.now(),
                updated_at=sa.func.now(),
                attempts=t.c.attempts + 1,
                last_error=error,
            )
        )
        TIMERS_FIRED.labels(self._service, timer.kind, "fired" if state == "done" else state).inc()
        if state == "failed":
            log.error("timer.failed", reason=error)

    async def _failed(self, session: AsyncSession, timer: DueTimer, exc: Exception) -> None:
        attempts = timer.attempts + 1
        error = f"{type(exc).__name__}: {exc}"[:500]
        if attempts >= self._max_attempts:
            log.error("timer.gave_up", attempts=attempts, error=type(exc).__name__, exc_info=exc)
            await self._finish(session, timer, "failed", error=error)
            return
        backoff = min(timedelta(seconds=5 * 2 ** (attempts - 1)), MAX_BACKOFF)
        log.warning("timer.retry", attempts=attempts, error=type(exc).__name__, exc_info=exc)
        t = self._table
        await session.execute(
            sa.update(t)
            .where(t.c.id == timer.id)
            .values(
                attempts=attempts,
                last_error=error,
                due_at=self._clock.now() + backoff,
                updated_at=sa.func.now(),
            )
        )
        TIMERS_FIRED.labels(self._service, timer.kind, "retried").inc()

    async def _update_due_gauge(self) -> None:
        t = self._table
        async with self._db.engine.connect() as connection:
            due = (
                await connection.execute(
                    sa.select(sa.func.count()).where(
                        t.c.state == "pending", t.c.due_at <= self._clock.now()
                    )
                )
            ).scalar_one()
        TIMERS_DUE.labels(self._service).set(due)
