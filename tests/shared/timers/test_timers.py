"""Durable timers: they fire once when due (not before), can be moved and cancelled, are retried
with backoff and given up on, write the outbox in their transaction, and fire once however many
runners tick at the same time.

Most tests move a ``ManualClock`` and call ``tick_timers`` themselves; the scheduler's own interval
is set to an hour there so it never ticks in between."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
from aio_pika.abc import AbstractRobustConnection

from shared.clock import ManualClock
from shared.service import Runtime
from tests.support import testkit
from tests.support.metrics import sample
from tests.support.running import running, wait_for

START = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
MANUAL: dict[str, Any] = {"timer_poll_interval_s": 3600, "run_consumers": False}


async def _schedule(
    runtime: Runtime,
    *,
    kind: str = "remind",
    key: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    async with runtime.db.transaction() as session:
        await runtime.timers.schedule(session, kind=kind, key=key, due_at=due_at, payload=payload)


async def _timer(db: asyncpg.Connection, key: str) -> asyncpg.Record:
    row = await db.fetchrow(
        "SELECT state, due_at, attempts, last_error, fired_at FROM testkit.timers WHERE key = $1",
        key,
    )
    assert row is not None
    return row


async def _timer_effects(db: asyncpg.Connection) -> list[str]:
    rows = await db.fetch("SELECT note FROM testkit.effects WHERE source = 'timer' ORDER BY id")
    return [row["note"] for row in rows]


async def test_timer_fires_once_when_the_clock_passes_its_due_time(db: asyncpg.Connection) -> None:
    clock = ManualClock(START)
    async with running(testkit.spec, clock=clock, run_relay=False, **MANUAL) as service:
        await _schedule(service.runtime, key="app-1:remind", due_at=START + timedelta(hours=1))

        clock.advance(timedelta(minutes=59, seconds=59))
        assert await service.runtime.tick_timers() == 0
        assert (await _timer(db, "app-1:remind"))["state"] == "pending"

        clock.advance(timedelta(seconds=2))
        assert await service.runtime.tick_timers() == 1
        assert await service.runtime.tick_timers() == 0
        clock.advance(timedelta(days=1))
        assert await service.runtime.tick_timers() == 0

    timer = await _timer(db, "app-1:remind")
    assert timer["state"] == "done"
    assert timer["attempts"] == 1
    assert timer["fired_at"] == START + timedelta(hours=1, seconds=1)
    assert await _timer_effects(db) == ["app-1:remind"]


async def test_scheduling_the_same_kind_and_key_again_moves_the_due_time(
    db: asyncpg.Connection,
) -> None:
    clock = ManualClock(START)
    async with running(testkit.spec, clock=clock, run_relay=False, **MANUAL) as service:
        await _schedule(service.runtime, key="app-2", due_at=START + timedelta(minutes=10))
        await _schedule(service.runtime, key="app-2", due_at=START + timedelta(minutes=30))
        assert await db.fetchval("SELECT count(*) FROM testkit.timers") == 1

        clock.advance(timedelta(minutes=15))
        assert await service.runtime.tick_timers() == 0
        clock.advance(timedelta(minutes=15))
        assert await service.runtime.tick_timers() == 1

        # A fired timer scheduled again is armed again.
        await _schedule(service.runtime, key="app-2", due_at=START + timedelta(hours=2))
        assert (await _timer(db, "app-2"))["state"] == "pending"
        clock.advance(timedelta(hours=2))
        assert await service.runtime.tick_timers() == 1
    assert await _timer_effects(db) == ["app-2", "app-2"]


async def test_cancelled_timer_never_fires(db: asyncpg.Connection) -> None:
    clock = ManualClock(START)
    async with running(testkit.spec, clock=clock, run_relay=False, **MANUAL) as service:
        runtime = service.runtime
        await _schedule(runtime, key="app-3", due_at=START + timedelta(minutes=5))
        async with runtime.db.transaction() as session:
            assert await runtime.timers.cancel(session, kind="remind", key="app-3") is True
        async with runtime.db.transaction() as session:
            # Nothing pending left to cancel.
            assert await runtime.timers.cancel(session, kind="remind", key="app-3") is False
        clock.advance(timedelta(days=1))
        assert await runtime.tick_timers() == 0
    assert (await _timer(db, "app-3"))["state"] == "cancelled"
    assert await _timer_effects(db) == []


async def test_cancel_by_key_prefix_cancels_only_that_aggregates_pending_timers(
    db: asyncpg.Connection,
) -> None:
    clock = ManualClock(START)
    async with running(testkit.spec, clock=clock, run_relay=False, **MANUAL) as service:
        runtime = service.runtime
        due = START + timedelta(minutes=5)
        for key in ("app_1:a", "app_1:b", "app_10:a", "appX1:a", "app%1:a"):
            await _schedule(runtime, key=key, due_at=due)
        await _schedule(runtime, kind="broken", key="app_1:c", due_at=due)
        async with runtime.db.transaction() as session:
            # "_" and "%" are literal here, not LIKE wildcards.
            cancelled = await runtime.timers.cancel_by_key_prefix(session, key_prefix="app_1:")
        assert cancelled == 3
        clock.advance(timedelta(minutes=5))
        while await runtime.tick_timers():
            pass
    states = {
        row["key"]: row["state"] for row in await db.fetch("SELECT key, state FROM testkit.timers")
    }
    assert states == {
        "app_1:a": "cancelled",
        "app_1:b": "cancelled",
        "app_1:c": "cancelled",
        "app_10:a": "done",
        "appX1:a": "done",
        "app%1:a": "done",
    }
    assert sorted(await _timer_effects(db)) == sorted(["app%1:a", "app_10:a", "appX1:a"])


async def test_failing_timer_is_retried_with_backoff_then_given_up(
    db: asyncpg.Connection,
) -> None:
    clock = ManualClock(START)
    retried_before = sample(
        "timers_fired_total", service="testkit", kind="broken", outcome="retried"
    )
    failed_before = sample("timers_fired_total", service="testkit", kind="broken", outcome="failed")
    async with running(
        testkit.spec, clock=clock, run_relay=False, timer_max_attempts=3, **MANUAL
    ) as service:
        runtime = service.runtime
        await _schedule(runtime, kind="broken", key="b-1", due_at=START)

        assert await runtime.tick_timers() == 1
        first = await _timer(db, "b-1")
        assert (first["state"], first["attempts"]) == ("pending", 1)
        assert first["due_at"] == START + timedelta(seconds=5)
        assert first["last_error"] == "RuntimeError: timer handler fails"

        clock.advance(timedelta(seconds=4))
        assert await runtime.tick_timers() == 0  # not due again yet
        clock.advance(timedelta(seconds=1))
        assert await runtime.tick_timers() == 1
        second = await _timer(db, "b-1")
        assert (second["state"], second["attempts"]) == ("pending", 2)
        # The backoff doubles.
        assert second["due_at"] == START + timedelta(seconds=5 + 10)

        clock.advance(timedelta(seconds=10))
        assert await runtime.tick_timers() == 1
        clock.advance(timedelta(days=1))
        assert await runtime.tick_timers() == 0

    last = await _timer(db, "b-1")
    assert (last["state"], last["attempts"]) == ("failed", 3)
    assert last["last_error"] == "RuntimeError: timer handler fails"
    # The handler's work was rolled back every time.
    assert await _timer_effects(db) == []
    retried = sample("timers_fired_total", service="testkit", kind="broken", outcome="retried")
    failed = sample("timers_fired_total", service="testkit", kind="broken", outcome="failed")
    assert (retried - retried_before, failed - failed_before) == (2, 1)


async def test_timer_of_an_unknown_kind_ends_failed(db: asyncpg.Connection) -> None:
    clock = ManualClock(START)
    async with running(testkit.spec, clock=clock, run_relay=False, **MANUAL) as service:
        await _schedule(service.runtime, kind="no-such-kind", key="u-1", due_at=START)
        assert await service.runtime.tick_timers() == 1
        clock.advance(timedelta(days=1))
        assert await service.runtime.tick_timers() == 0
    timer = await _timer(db, "u-1")
    assert timer["state"] == "failed"
    assert timer["last_error"] == "no handler for this kind"
    assert await _timer_effects(db) == []


async def test_timer_handler_emits_its_event_in_the_same_transaction(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    clock = ManualClock(START)
    async with running(
        testkit.spec, clock=clock, run_relay=False, timer_max_attempts=1, **MANUAL
    ) as service:
        await _schedule(service.runtime, key="e-1", due_at=START, payload={"emit": True})
        # The same handler work, but failing after emitting: its event must go with it.
        await _schedule(
            service.runtime, kind="broken", key="e-2", due_at=START, payload={"emit": True}
        )
        assert await service.runtime.tick_timers() == 2
    assert (await _timer(db, "e-1"))["state"] == "done"
    assert (await _timer(db, "e-2"))["state"] == "failed"
    assert await _timer_effects(db) == ["e-1"]
    events = await db.fetch("SELECT subject, payload FROM testkit.outbox")
    assert [(row["subject"], orjson.loads(row["payload"])["data"]["note"]) for row in events] == [
        ("e-1", "from-timer:e-1")
    ]
    # A fired timer starts a chain of its own: a fresh correlation id for what it causes.
    assert re.fullmatch(r"[0-9a-f]{32}", orjson.loads(events[0]["payload"])["correlationid"])

    # The event is delivered: the test kit consumes its own pings.
    async with running(testkit.spec, clock=clock, **{**MANUAL, "run_consumers": True}):

        async def delivered() -> list[str]:
            rows = await db.fetch("SELECT note FROM testkit.effects WHERE source = 'ping'")
            return [row["note"] for row in rows]

        assert await wait_for(delivered, what="the timer's event handled") == ["from-timer:e-1"]


async def test_two_runners_ticking_together_fire_each_timer_once(db: asyncpg.Connection) -> None:
    clock = ManualClock(START)
    settings = {**MANUAL, "run_relay": False, "timer_batch_size": 25}
    async with (
        running(testkit.spec, clock=clock, **settings) as first,
        running(testkit.spec, clock=clock, **settings) as second,
    ):
        await db.execute(
            "INSERT INTO testkit.timers (kind, key, due_at) "
            "SELECT 'remind', 'many-' || n, $1 FROM generate_series(1, 200) AS n",
            START,
        )
        fired = 0
        while True:
            counts = await asyncio.gather(first.runtime.tick_timers(), second.runtime.tick_timers())
            fired += sum(counts)
            if not any(counts):
                break
    assert fired == 200
    notes = await _timer_effects(db)
    assert len(notes) == 200
    assert set(notes) == {f"many-{n}" for n in range(1, 201)}
    assert await db.fetchval("SELECT count(*) FROM testkit.timers WHERE state <> 'done'") == 0


async def test_scheduler_job_fires_due_timers_without_a_manual_tick(
    db: asyncpg.Connection,
) -> None:
    async with running(testkit.spec, run_relay=False, run_consumers=False) as service:
        assert service.runtime.settings.timer_poll_interval_s == 0.2
        await _schedule(service.runtime, key="auto-1", due_at=datetime.now(UTC))

        async def fired() -> bool:
            state: str = (await _timer(db, "auto-1"))["state"]
            return state == "done"

        await wait_for(fired, timeout=5, what="the scheduler's tick to fire the timer")
    assert await _timer_effects(db) == ["auto-1"]
