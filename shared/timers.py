"""Durable timers: rows with a due time, claimed by every replica's interval job with
``FOR UPDATE SKIP LOCKED`` in batches and handled in the claiming transaction, which may also
write the outbox.

Scheduling is an upsert on (kind, key), so rescheduling is the same call; cancelling is a row
update. Nothing is lost on restart and nothing fires twice across replicas: a claimed timer
stays locked until the transaction that handles it commits.

A kind has either a per-timer handler (``@handlers.on``: one call per timer, each in a
savepoint) or a batch handler (``@handlers.on_batch``: one call with all the claimed timers of
that kind, in one savepoint). If a batch handler raises, its savepoint is rolled back and each
of its timers is handled alone, so only the failing one is retried or given up on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
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
# While draining a backlog, the "due" gauge is counted at most this often (it is a count query).
DUE_GAUGE_EVERY_S = 5.0


@dataclass(frozen=True)
class DueTimer:
    id: int
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int


TimerHandler = Callable[[UnitOfWork, DueTimer], Awaitable[None]]
BatchTimerHandler = Callable[[UnitOfWork, list[DueTimer]], Awaitable[None]]


class TimerHandlers:
    """A service's registry of timer handlers (``timers.py`` fills it with ``@timers.on`` or
    ``@timers.on_batch``). A kind has one handler of either sort."""

    def __init__(self) -> None:
        self._by_kind: dict[str, TimerHandler] = {}
        self._batch_by_kind: dict[str, BatchTimerHandler] = {}

    def on(self, kind: str) -> Callable[[TimerHandler], TimerHandler]:
        """Register ``async def handler(unit, timer: DueTimer) -> None`` for ``kind``."""

        def register(fn: TimerHandler) -> TimerHandler:
            self._check_new(kind)
            self._by_kind[kind] = fn
            return fn

        return register

    def on_batch(self, kind: str) -> Callable[[BatchTimerHandler], BatchTimerHandler]:
        """Register ``async def handler(unit, timers: list[DueTimer]) -> None`` for ``kind``:
        it gets every claimed due timer of the kind at once (up to the batch size) and should
        do their work in a few set-based statements. It may be called again with a single
        timer (the fallback after the batch failed), so it must not assume a size."""

        def register(fn: BatchTimerHandler) -> BatchTimerHandler:
            self._check_new(kind)
            self._batch_by_kind[kind] = fn
            return fn

        return register

    def _check_new(self, kind: str) -> None:
        if kind in self._by_kind or kind in self._batch_by_kind:
            raise ValueError(f"timer kind {kind} registered twice")

    def get(self, kind: str) -> TimerHandler | None:
        return self._by_kind.get(kind)

    def get_batch(self, kind: str) -> BatchTimerHandler | None:
        return self._batch_by_kind.get(kind)

    @property
    def kinds(self) -> list[str]:
        return sorted([*self._by_kind, *self._batch_by_kind])


class Timers:
    """Schedule, reschedule and cancel timers inside the caller's transaction."""

    def __init__(self, table: sa.Table) -> None:
        self._table = table
        # Built once; the rows are given as parameters (an executemany), so it is compiled
        # once rather than for every batch, and a key named twice in one call is simply set
        # twice, the last row winning.
        insert = pg_insert(table)
        self._upsert = insert.on_conflict_do_update(
            index_elements=[table.c.kind, table.c.key],
            set_={
                "due_at": insert.excluded.due_at,
                "payload": insert.excluded.payload,
                "state": "pending",
                "attempts": 0,
                "last_error": None,
                "fired_at": None,
                "updated_at": sa.func.now(),
            },
        )

    async def schedule(
        self,
        session: AsyncSession,
        *,
        kind: str,
        key: str,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
    ) -> None:
        await self.schedule_many(
            session, [{"kind": kind, "key": key, "due_at": due_at, "payload": payload or {}}]
        )

    async def schedule_many(self, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
        """Set (or re-arm) many timers in one round trip; each row has ``kind``, ``key``,
        ``due_at`` and ``payload``. An existing (kind, key) is rescheduled and pending again."""
        if not rows:
            return
        if any(row["due_at"].tzinfo is None for row in rows):
            raise ValueError("due_at must be timezone-aware")
        await session.execute(self._upsert, list(rows))

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
    """Fires due timers. ``tick`` handles one batch; ``drain`` (what every replica's APScheduler
    job runs) ticks until a batch comes back less than full, so a backlog is worked off at once
    instead of one batch per poll interval."""

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
        self._batch_size = max(1, batch_size)
        self._max_attempts = max_attempts
        self._stopping = False
        self._due_counted_at = float("-inf")
        self.last_tick_at: datetime | None = None
        # time.monotonic() after the last batch that went through: readiness checks it, and
        # a long drain keeps it fresh.
        self.heartbeat = time.monotonic()
        t = table
        # Built once. Ordered by due time only: the partial index on due_at then feeds the
        # LIMIT directly, even when a hundred thousand timers share one due time.
        self._claim = (
            sa.select(t.c.id, t.c.kind, t.c.key, t.c.due_at, t.c.payload, t.c.attempts)
            .where(t.c.state == "pending", t.c.due_at <= sa.bindparam("now"))
            .order_by(t.c.due_at)
            .limit(self._batch_size)
            .with_for_update(skip_locked=True)
        )
        self._mark_done = (
            sa.update(t)
            .where(t.c.id == sa.any_(sa.bindparam("ids", type_=ARRAY(sa.BigInteger))))
            .values(
                state="done",
                fired_at=sa.bindparam("fired_at"),
                updated_at=sa.func.now(),
                attempts=t.c.attempts + 1,
                last_error=None,
            )
        )

    @property
    def batch_size(self) -> int:
        return self._batch_size

    def stop(self) -> None:
        """Start no more handlers: a running tick commits what it has handled and leaves the
        rest of its batch pending (used on shutdown)."""
        self._stopping = True

    async def tick(self) -> int:
        """Claim up to one batch of due timers and handle them in one transaction; returns how
        many were handled (fired, retried or given up on)."""
        handled = await self._fire_batch() if not self._stopping else 0
        self.last_tick_at = self._clock.now()
        self.heartbeat = time.monotonic()
        await self._update_due_gauge()
        return handled

    async def drain(self) -> int:
        """Tick until no full batch is left (or the runner stops); returns how many were
        handled. Between batches it yields to the event loop, so requests and consumers in the
        same process go on while a backlog is worked off."""
        total = 0
        while not self._stopping:
            handled = await self._fire_batch()
            total += handled
            self.last_tick_at = self._clock.now()
            self.heartbeat = time.monotonic()
            if handled < self._batch_size:
                break
            await asyncio.sleep(0)
            if time.monotonic() - self._due_counted_at >= DUE_GAUGE_EVERY_S:
                await self._update_due_gauge()
        await self._update_due_gauge()
        return total

    async def _fire_batch(self) -> int:
        now = self._clock.now()
        outcomes: list[tuple[DueTimer, str]] = []
        async with self._db.transaction() as session:
            rows = (await session.execute(self._claim, {"now": now})).all()
            if not rows:
                return 0
            by_kind: dict[str, list[DueTimer]] = {}
            for row in rows:
                timer = DueTimer(row.id, row.kind, row.key, row.due_at, row.payload, row.attempts)
                by_kind.setdefault(timer.kind, []).append(timer)
            for kind, timers in by_kind.items():
                if self._stopping:
                    break  # the rest stays pending and is unlocked at commit
                outcomes.extend(await self._fire_kind(session, kind, timers))
            fired = [timer.id for timer, outcome in outcomes if outcome == "fired"]
            if fired:
                await session.execute(
                    self._mark_done, {"ids": fired, "fired_at": self._clock.now()}
                )
        # Counted once committed: a batch whose commit fails is claimed again, not counted twice.
        counts: dict[tuple[str, str], int] = {}
        for timer, outcome in outcomes:
            counts[timer.kind, outcome] = counts.get((timer.kind, outcome), 0) + 1
            if outcome == "fired":
                TIMER_LAG.labels(self._service, timer.kind).observe(
                    max(0.0, (now - timer.due_at).total_seconds())
                )
        for (kind, outcome), count in counts.items():
            TIMERS_FIRED.labels(self._service, kind, outcome).inc(count)
        return len(outcomes)

    async def _fire_kind(
        self, session: AsyncSession, kind: str, timers: list[DueTimer]
    ) -> list[tuple[DueTimer, str]]:
        """Handle the claimed timers of one kind; (timer, outcome) for each one handled."""
        batch = self._handlers.get_batch(kind)
        single = self._handlers.get(kind)
        if batch is None and single is None:
            outcomes = []
            for timer in timers:
                with self._bound(timer):
                    outcomes.append(
                        (timer, await self._give_up(session, timer, "no handler for this kind"))
                    )
            return outcomes
        if batch is None:
            assert single is not None
            return await self._one_by_one(session, timers, single)
        if len(timers) > 1:
            try:
                with context.bound(
                    correlation_id=context.new_id(), timer_kind=kind, timer_count=str(len(timers))
                ):
                    async with session.begin_nested():
                        await batch(self._unit_factory(session), timers)
            except Exception as exc:
                # Roll the batch back and handle each timer alone, so only the failing one is
                # retried or given up on.
                log.warning(
                    "timers.batch_split",
                    timer_kind=kind,
                    size=len(timers),
                    error=type(exc).__name__,
                )
            else:
                return [(timer, "fired") for timer in timers]

        async def alone(unit: UnitOfWork, timer: DueTimer) -> None:
            await batch(unit, [timer])

        return await self._one_by_one(session, timers, alone)

    async def _one_by_one(
        self, session: AsyncSession, timers: list[DueTimer], handler: TimerHandler
    ) -> list[tuple[DueTimer, str]]:
        outcomes = []
        for timer in timers:
            if self._stopping:
                break
            with self._bound(timer):
                try:
                    async with session.begin_nested():
                        await handler(self._unit_factory(session), timer)
                except Exception as exc:
                    outcomes.append((timer, await self._failed(session, timer, exc)))
                    continue
            outcomes.append((timer, "fired"))
        return outcomes

    @staticmethod
    def _bound(timer: DueTimer) -> contextlib.AbstractContextManager[None]:
        # A fired timer starts a chain of its own: a fresh correlation id for what it causes.
        return context.bound(
            correlation_id=context.new_id(), timer_kind=timer.kind, timer_id=str(timer.id)
        )

    async def _give_up(self, session: AsyncSession, timer: DueTimer, error: str) -> str:
        t = self._table
        await session.execute(
            sa.update(t)
            .where(t.c.id == timer.id)
            .values(
                state="failed",
                fired_at=self._clock.now(),
                updated_at=sa.func.now(),
                attempts=t.c.attempts + 1,
                last_error=error,
            )
        )
        log.error("timer.failed", reason=error)
        return "failed"

    async def _failed(self, session: AsyncSession, timer: DueTimer, exc: Exception) -> str:
        """Record a handler's failure: retried later with backoff, or given up on."""
        attempts = timer.attempts + 1
        error = f"{type(exc).__name__}: {exc}"[:500]
        if attempts >= self._max_attempts:
            log.error("timer.gave_up", attempts=attempts, error=type(exc).__name__, exc_info=exc)
            return await self._give_up(session, timer, error)
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
        return "retried"

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
        self._due_counted_at = time.monotonic()
        TIMERS_DUE.labels(self._service).set(due)
