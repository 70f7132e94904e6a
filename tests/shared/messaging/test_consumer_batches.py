"""Events that wait together are handled together: one transaction and one inbox insert per
batch, each event still exactly once, and a failure confined to the event that caused it.

With a database pool of 3 the consumer runs one worker. A first, slow event keeps it busy while
the others arrive, so they are waiting together when it is free: a batch, deterministically."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from shared.events.envelope import CloudEvent
from shared.messaging import consumer
from tests.support import broker, testkit
from tests.support.metrics import sample
from tests.support.running import Running, running, wait_for

PING = testkit.PingV1.event_type


def _one_worker() -> AbstractAsyncContextManager[Running]:
    """The testkit with a database pool of 3, hence one consumer worker."""
    return running(testkit.spec, db_pool_size=3, run_timers=False)


def _envelope(data: dict[str, Any], **extensions: Any) -> CloudEvent:
    return CloudEvent(
        id=uuid.uuid4(),
        source="/elsewhere",
        type=PING,
        time=datetime.now(UTC),
        subject="subject-1",
        data=data,
        **extensions,
    )


async def _publish(amqp: AbstractRobustConnection, *envelopes: CloudEvent) -> None:
    for envelope in envelopes:
        await broker.publish(amqp, envelope.model_dump_json().encode(), routing_key=PING)


async def _effects(db: asyncpg.Connection) -> Counter[str]:
    rows = await db.fetch("SELECT note FROM testkit.effects WHERE source = 'ping'")
    return Counter(row["note"] for row in rows)


def _splits() -> float:
    """Batches that had to be rolled back and handled one by one."""
    return sample("event_batches_split_total", service="testkit")


def _batches() -> tuple[float, float]:
    """(number of batches, messages in them) so far."""
    labels = {"service": "testkit"}
    return sample("event_batch_size_count", **labels), sample("event_batch_size_sum", **labels)


async def test_events_waiting_together_are_handled_as_one_batch_each_exactly_once(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    batches_before, messages_before = _batches()
    splits_before = _splits()
    async with _one_worker():
        await _publish(amqp, _envelope({"note": "slow", "delay_ms": 500}))
        await _publish(amqp, *(_envelope({"note": f"n{i}"}) for i in range(40)))

        async def all_handled() -> Counter[str]:
            effects = await _effects(db)
            return effects if sum(effects.values()) >= 41 else Counter()

        effects = await wait_for(all_handled, timeout=20, what="41 effects")

    assert effects == Counter({"slow": 1, **{f"n{i}": 1 for i in range(40)}})
    batches_after, messages_after = _batches()
    batches, messages = batches_after - batches_before, messages_after - messages_before
    assert messages == 41
    assert batches <= 5, f"{messages} messages took {batches} transactions"
    assert _splits() == splits_before  # the batch path itself worked; nothing fell back


async def test_a_failing_event_in_a_batch_is_retried_alone_and_the_rest_commit_once(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    splits_before = _splits()
    async with _one_worker():
        await _publish(amqp, _envelope({"note": "slow", "delay_ms": 500}))
        await _publish(amqp, *(_envelope({"note": f"ok{i}"}) for i in range(10)))
        await _publish(amqp, _envelope({"note": "explode"}))
        await _publish(amqp, *(_envelope({"note": f"ok{i}"}) for i in range(10, 20)))

        async def all_good_handled() -> Counter[str]:
            effects = await _effects(db)
            return effects if sum(effects.values()) >= 21 else Counter()

        effects = await wait_for(all_good_handled, timeout=20, what="21 effects")
        parked = await wait_for(
            lambda: broker.drain(amqp, broker.topology("testkit").parking_queue),
            timeout=20,
            what="the failing event parked",
        )

    assert effects == Counter({"slow": 1, **{f"ok{i}": 1 for i in range(20)}})
    assert [json.loads(m.body)["data"]["note"] for m in parked] == ["explode"]
    assert _splits() == splits_before + 1


async def test_the_same_event_twice_in_one_batch_has_one_effect(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    twice = _envelope({"note": "twice"})
    splits_before = _splits()
    async with _one_worker():
        await _publish(amqp, _envelope({"note": "slow", "delay_ms": 500}))
        await _publish(amqp, twice, _envelope({"note": "between"}), twice)

        async def handled() -> Counter[str]:
            effects = await _effects(db)
            return effects if {"slow", "between", "twice"} <= effects.keys() else Counter()

        await wait_for(handled, timeout=20, what="the batch")
        # The duplicate is acknowledged as one, not handled again.
        await wait_for(lambda: _counted_duplicate(), timeout=10, what="the duplicate counted")

    assert await _effects(db) == Counter({"slow": 1, "between": 1, "twice": 1})
    assert _splits() == splits_before


async def _counted_duplicate() -> bool:
    return sample("events_consumed_total", service="testkit", type=PING, outcome="duplicate") > 0


async def test_events_emitted_from_a_batch_carry_the_correlation_id_of_their_own_cause(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    causes = {f"echo:{i}": f"corr-{uuid.uuid4().hex}" for i in range(5)}
    async with broker.tap(amqp, PING) as tap, _one_worker():
        await _publish(amqp, _envelope({"note": "slow", "delay_ms": 500}))
        await _publish(
            amqp,
            *(
                _envelope({"note": note}, correlationid=correlation)
                for note, correlation in causes.items()
            ),
        )
        seen: dict[str, str | None] = {}

        async def all_echoes() -> bool:
            for message in await broker.take(tap):
                body = json.loads(message.body)
                if body["data"]["note"].startswith("echoed:"):
                    seen[body["data"]["note"]] = body.get("correlationid")
            return len(seen) == len(causes)

        await wait_for(all_echoes, timeout=20, what="the echoed events")

    assert seen == {f"echoed:{note}": correlation for note, correlation in causes.items()}


async def test_a_batch_handler_gets_the_batchs_events_in_one_call_each_once(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    def tally(note: str, event_id: uuid.UUID | None = None) -> CloudEvent:
        return CloudEvent(
            id=event_id or uuid.uuid4(),
            source="/elsewhere",
            type=testkit.TallyV1.event_type,
            time=datetime.now(UTC),
            subject="subject-1",
            data={"note": note},
        )

    repeated = tally("t-repeated")
    async with _one_worker():
        await _publish(amqp, _envelope({"note": "slow", "delay_ms": 500}))
        for envelope in [*(tally(f"t{i}") for i in range(30)), repeated, repeated]:
            await broker.publish(
                amqp, envelope.model_dump_json().encode(), routing_key=envelope.type
            )

        async def tallied() -> list[str]:
            rows = await db.fetch("SELECT note FROM testkit.effects WHERE source = 'tally'")
            notes = [note for row in rows for note in row["note"].split(",")]
            return notes if len(notes) >= 31 else []

        notes = await wait_for(tallied, timeout=20, what="31 tallied events")
        calls = await db.fetchval("SELECT count(*) FROM testkit.effects WHERE source = 'tally'")

    assert sorted(notes) == sorted([f"t{i}" for i in range(30)] + ["t-repeated"])
    assert calls <= 5, f"31 events took {calls} calls"


class _RecordingLog:
    """Stands in for the consumer's logger: records (level, event, fields), debug enabled."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def is_enabled_for(self, level: int) -> bool:
        return True

    def __getattr__(self, level: str) -> Any:
        def record(event: str, **fields: Any) -> None:
            self.lines.append((level, event, fields))

        return record

    def handled(self, level: str) -> list[dict[str, Any]]:
        return [
            {"event": event, **fields}
            for lvl, event, fields in self.lines
            if lvl == level and event in ("event.handled", "events.handled")
        ]


async def test_a_batch_logs_one_line_not_one_per_event(
    amqp: AbstractRobustConnection, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _RecordingLog()
    monkeypatch.setattr(consumer, "log", log)
    async with _one_worker():
        await _publish(amqp, _envelope({"note": "slow", "delay_ms": 500}))
        await _publish(amqp, *(_envelope({"note": f"n{i}"}) for i in range(30)))

        async def all_logged() -> bool:
            info = log.handled("info")
            return sum(int(line.get("count", 1)) for line in info) >= 31

        await wait_for(all_logged, timeout=20, what="the lines of 31 events")

    singles = [line for line in log.handled("info") if line["event"] == "event.handled"]
    batches = [line for line in log.handled("info") if line["event"] == "events.handled"]
    # The slow event alone; the 30 behind it in a few batches, a line each.
    assert len(singles) == 1
    assert 1 <= len(batches) <= 4
    assert sum(line["count"] for line in batches) == 30
    assert all(line["types"] == [PING] and line["duplicates"] == 0 for line in batches)
    assert sum(len(line["event_ids"]) for line in batches) == 30
    # Each event of a batch still has a line with its ids at debug level.
    debug = log.handled("debug")
    assert len(debug) == 30
    assert all(line["event_id"] and line["event_type"] == PING for line in debug)
