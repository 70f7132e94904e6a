"""Batch timer handlers: all the claimed due timers of a kind in one call and one transaction,
a failing batch handled again one by one so only the bad timer is retried, kinds mixed in one
claim, per-timer handlers beside them, replicas never firing a timer twice, and a backlog
drained batch after batch without waiting for the poll interval.

The test kit's spec is run with its own registry here: its per-timer kinds (``remind``,
``broken``) plus batch kinds that record every call."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest
import sqlalchemy as sa

from shared.clock import ManualClock
from shared.service import Runtime
from shared.timers import DueTimer, TimerHandlers
from shared.unit import UnitOfWork
from tests.support import testkit
from tests.support.metrics import sample
from tests.support.running import running, wait_for

START = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
MANUAL: dict[str, Any] = {
    "timer_poll_interval_s": 3600,
    "run_consumers": False,
    "run_relay": False,
}


@dataclasses.dataclass(frozen=True)
class Call:
    kind: str
    keys: list[str]
    transaction: int


CALLS: list[Call] = []

handlers = TimerHandlers()
handlers.on("remind")(testkit.remind)
handlers.on("broken")(testkit.broken)


async def _record(unit: UnitOfWork, kind: str, timers: list[DueTimer]) -> None:
    transaction = (await unit.session.execute(sa.text("SELECT txid_current()"))).scalar_one()
    CALLS.append(Call(kind, [timer.key for timer in timers], transaction))
    unit.session.add_all(testkit.Effect(source="timer", note=timer.key) for timer in timers)
    await unit.emit_many(
        [(testkit.PingV1(note=f"from-batch:{timer.key}"), timer.key, None) for timer in timers]
    )


@handlers.on_batch("expire")
async def expire(unit: UnitOfWork, timers: list[DueTimer]) -> None:
    await _record(unit, "expire", timers)
    await unit.session.flush()  # the effects and events are written before it may fail
    if any(timer.payload.get("fail") for timer in timers):
        raise RuntimeError("bad timer in the batch")


@handlers.on_batch("close")
async def close(unit: UnitOfWork, timers: list[DueTimer]) -> None:
    await _record(unit, "close", timers)


spec = dataclasses.replace(testkit.spec, timer_handlers=handlers)


@pytest.fixture(autouse=True)
def calls() -> Iterator[list[Call]]:
    CALLS.clear()
    yield CALLS
    CALLS.clear()


async def _seed(
    db: asyncpg.Connection,
    kind: str,
    count: int,
    *,
    prefix: str | None = None,
    due_at: datetime = START,
    payload: dict[str, Any] | None = None,
) -> list[str]:
    prefix = prefix or kind
    await db.execute(
        "INSERT INTO testkit.timers (kind, key, due_at, payload) "
        "SELECT $1, $2 || '-' || n, $3, $4::jsonb FROM generate_series(1, $5) AS n",
        kind,
        prefix,
        due_at,
        orjson.dumps(payload or {}).decode(),
        count,
    )
    return [f"{prefix}-{n}" for n in range(1, count + 1)]


async def _effects(db: asyncpg.Connection) -> list[str]:
    rows = await db.fetch("SELECT note FROM testkit.effects WHERE source = 'timer' ORDER BY id")
    return [row["note"] for row in rows]


async def _states(db: asyncpg.Connection) -> dict[str, str]:
    rows = await db.fetch("SELECT key, state FROM testkit.timers")
    return {row["key"]: row["state"] for row in rows}


def test_a_kind_takes_one_handler_of_either_sort() -> None:
    registry = TimerHandlers()
    registry.on("a")(testkit.remind)
    registry.on_batch("b")(expire)
    with pytest.raises(ValueError, match="registered twice"):
        registry.on_batch("a")(expire)
    with pytest.raises(ValueError, match="registered twice"):
        registry.on("b")(testkit.remind)
    assert registry.kinds == ["a", "b"]
    assert registry.get("b") is None
    assert registry.get_batch("b") is expire


async def test_batch_handler_gets_all_due_timers_of_its_kind_in_one_call_and_transaction(
    db: asyncpg.Connection, calls: list[Call]
) -> None:
    keys = await _seed(db, "expire", 40)
    await _seed(db, "expire", 5, prefix="later", due_at=START + timedelta(hours=1))
    fired_before = sample("timers_fired_total", service="testkit", kind="expire", outcome="fired")
    lag_before = sample("timer_lag_seconds_count", service="testkit", kind="expire")
    clock = ManualClock(START + timedelta(seconds=30))
    async with running(spec, clock=clock, timer_batch_size=100, **MANUAL) as service:
        assert await service.runtime.tick_timers() == 40

    assert [(call.kind, sorted(call.keys)) for call in calls] == [("expire", sorted(keys))]
    # The timers were marked done in the handler's own transaction, by one statement.
    marked_by = await db.fetch(
        "SELECT DISTINCT xmin::text::bigint AS xid FROM testkit.timers WHERE state = 'done'"
    )
    assert [row["xid"] for row in marked_by] == [calls[0].transaction % 2**32]
    states = await _states(db)
    assert {states[key] for key in keys} == {"done"}
    assert {states[f"later-{n}"] for n in range(1, 6)} == {"pending"}
    rows = await db.fetch("SELECT attempts, fired_at FROM testkit.timers WHERE state = 'done'")
    assert {(row["attempts"], row["fired_at"]) for row in rows} == {(1, clock.now())}
    assert sorted(await _effects(db)) == sorted(keys)
    assert await db.fetchval("SELECT count(*) FROM testkit.outbox") == 40
    fired = sample("timers_fired_total", service="testkit", kind="expire", outcome="fired")
    lags = sample("timer_lag_seconds_count", service="testkit", kind="expire")
    assert (fired - fired_before, lags - lag_before) == (40, 40)


async def test_a_failing_batch_is_handled_one_by_one_and_only_the_bad_timer_is_retried(
    db: asyncpg.Connection, calls: list[Call]
) -> None:
    good = await _seed(db, "expire", 4)
    await _seed(db, "expire", 1, prefix="bad", payload={"fail": True})
    retried_before = sample(
        "timers_fired_total", service="testkit", kind="expire", outcome="retried"
    )
    async with running(spec, clock=ManualClock(START), **MANUAL) as service:
        assert await service.runtime.tick_timers() == 5

    # One call with the whole batch (rolled back), then one call per timer.
    assert len(calls[0].keys) == 5
    assert sorted(call.keys[0] for call in calls[1:]) == sorted([*good, "bad-1"])
    assert all(len(call.keys) == 1 for call in calls[1:])
    # Only the good timers' work committed: the batch's and the bad timer's were rolled back.
    assert sorted(await _effects(db)) == sorted(good)
    notes = await db.fetch("SELECT subject FROM testkit.outbox")
    assert sorted(row["subject"] for row in notes) == sorted(good)
    bad = await db.fetchrow(
        "SELECT state, attempts, due_at, last_error FROM testkit.timers WHERE key = 'bad-1'"
    )
    assert dict(bad) == {
        "state": "pending",
        "attempts": 1,
        "due_at": START + timedelta(seconds=5),
        "last_error": "RuntimeError: bad timer in the batch",
    }
    states = await _states(db)
    assert {states[key] for key in good} == {"done"}
    retried = sample("timers_fired_total", service="testkit", kind="expire", outcome="retried")
    assert retried - retried_before == 1


async def test_bad_timer_alone_is_given_up_after_its_last_attempt(
    db: asyncpg.Connection, calls: list[Call]
) -> None:
    await _seed(db, "expire", 1, prefix="bad", payload={"fail": True})
    clock = ManualClock(START)
    async with running(spec, clock=clock, timer_max_attempts=2, **MANUAL) as service:
        assert await service.runtime.tick_timers() == 1
        clock.advance(timedelta(seconds=5))
        assert await service.runtime.tick_timers() == 1
        clock.advance(timedelta(days=1))
        assert await service.runtime.tick_timers() == 0
    # A batch of one is that timer's own attempt: no second call to fall back to.
    assert [call.keys for call in calls] == [["bad-1"], ["bad-1"]]
    row = await db.fetchrow("SELECT state, attempts FROM testkit.timers WHERE key = 'bad-1'")
    assert (row["state"], row["attempts"]) == ("failed", 2)
    assert await _effects(db) == []


async def test_mixed_kinds_in_one_claim_each_go_to_their_own_handler(
    db: asyncpg.Connection, calls: list[Call]
) -> None:
    expiring = await _seed(db, "expire", 6)
    closing = await _seed(db, "close", 3)
    reminding = await _seed(db, "remind", 2)
    await _seed(db, "broken", 1)
    await _seed(db, "unknown-kind", 1)
    async with running(spec, clock=ManualClock(START), **MANUAL) as service:
        assert await service.runtime.tick_timers() == 13
        assert await service.runtime.tick_timers() == 0

    assert sorted((call.kind, len(call.keys)) for call in calls) == [("close", 3), ("expire", 6)]
    # Everything in one transaction: the one claim, both batches, the per-timer handlers.
    assert len({call.transaction for call in calls}) == 1
    assert sorted(await _effects(db)) == sorted([*expiring, *closing, *reminding])
    states = await _states(db)
    assert {states[key] for key in [*expiring, *closing, *reminding]} == {"done"}
    assert (states["broken-1"], states["unknown-kind-1"]) == ("pending", "failed")


async def test_two_runners_draining_together_fire_each_batch_timer_once(
    db: asyncpg.Connection, calls: list[Call]
) -> None:
    keys = await _seed(db, "expire", 300)
    settings = {**MANUAL, "timer_batch_size": 25}
    clock = ManualClock(START)
    async with (
        running(spec, clock=clock, **settings) as first,
        running(spec, clock=clock, **settings) as second,
    ):
        together = await asyncio.gather(first.runtime.drain_timers(), second.runtime.drain_timers())
        # Whatever one runner skipped while the other held it locked is picked up now.
        after = await first.runtime.drain_timers()
    assert sum(together) + after == 300
    handled = [key for call in calls for key in call.keys]
    assert sorted(handled) == sorted(keys)
    assert all(len(call.keys) <= 25 for call in calls)
    effects = await _effects(db)
    assert sorted(effects) == sorted(keys)
    assert await db.fetchval("SELECT count(*) FROM testkit.outbox") == 300
    assert await db.fetchval("SELECT count(*) FROM testkit.timers WHERE state <> 'done'") == 0


async def test_drain_works_off_more_than_one_batch_without_waiting_for_the_interval(
    db: asyncpg.Connection, calls: list[Call]
) -> None:
    await _seed(db, "expire", 35)
    await _seed(db, "remind", 10)
    async with running(spec, clock=ManualClock(START), timer_batch_size=10, **MANUAL) as service:
        runtime: Runtime = service.runtime
        assert await runtime.tick_timers() == 10  # one tick: one batch
        assert await runtime.drain_timers() == 35  # then the rest, batch after batch
        assert await runtime.drain_timers() == 0
    assert all(len(call.keys) <= 10 for call in calls)
    assert await db.fetchval("SELECT count(*) FROM testkit.timers WHERE state <> 'done'") == 0
    assert sample("timers_due", service="testkit") == 0


async def test_the_interval_job_drains_the_whole_backlog_in_one_run(
    db: asyncpg.Connection, calls: list[Call]
) -> None:
    await _seed(db, "expire", 55)
    async with running(spec, clock=ManualClock(START), timer_batch_size=10, **MANUAL) as service:
        runtime: Runtime = service.runtime
        # The next run is an hour away; bring just this one forward.
        job = runtime.scheduler.get_job("timers")
        assert job is not None
        job.modify(next_run_time=datetime.now(UTC))

        async def drained() -> bool:
            left: int = await db.fetchval(
                "SELECT count(*) FROM testkit.timers WHERE state <> 'done'"
            )
            return left == 0

        await wait_for(drained, what="the interval job to drain all six batches")
        assert sum(len(call.keys) for call in calls) == 55
        # The next run is the hour away again: everything went in the one run.
        next_run = runtime.scheduler.get_job("timers").next_run_time
        assert next_run > datetime.now(UTC) + timedelta(minutes=59)


async def test_a_stopping_runner_commits_what_it_handled_and_leaves_the_rest_pending(
    db: asyncpg.Connection,
) -> None:
    reminding = await _seed(db, "remind", 3)
    await _seed(db, "stop", 1, due_at=START - timedelta(minutes=1))
    stopping = TimerHandlers()
    stopping.on("remind")(testkit.remind)
    runtimes: list[Runtime] = []

    @stopping.on("stop")
    async def stop(unit: UnitOfWork, timer: DueTimer) -> None:
        unit.session.add(testkit.Effect(source="timer", note=timer.key))
        assert runtimes[0].timer_runner is not None
        runtimes[0].timer_runner.stop()  # as on shutdown, in the middle of a batch

    stopper = dataclasses.replace(testkit.spec, timer_handlers=stopping)
    async with running(stopper, clock=ManualClock(START), **MANUAL) as service:
        runtimes.append(service.runtime)
        # The "stop" timer is the oldest, so it is handled first.
        assert await service.runtime.tick_timers() == 1
        assert await service.runtime.drain_timers() == 0
    assert await _effects(db) == ["stop-1"]
    states = await _states(db)
    assert states["stop-1"] == "done"
    assert {states[key] for key in reminding} == {"pending"}
