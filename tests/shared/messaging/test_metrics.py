"""What ops see after traffic: /metrics has the message and timer series with the service label,
and /readyz reports each background component."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from aio_pika.abc import AbstractRobustConnection
from prometheus_client.parser import text_string_to_metric_families

from shared.clock import ManualClock
from tests.support import testkit
from tests.support.running import running, wait_for
from tests.support.tokens import auth

PING = testkit.PingV1.event_type
Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def _scrape(client: httpx.AsyncClient) -> Series:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(series: Series, name: str, **labels: str) -> float | None:
    return series.get((name, frozenset(labels.items())))


async def test_metrics_after_traffic_cover_events_outbox_and_timers(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    start = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
    clock = ManualClock(start)
    async with running(
        testkit.spec, clock=clock, timer_poll_interval_s=3600, timer_batch_size=1
    ) as service:
        before = await _scrape(service.client)

        created = await service.client.post("/v1/notes", json={"text": "metered"}, headers=auth())
        assert created.status_code == 201

        async def handled() -> bool:
            return bool(await db.fetchval("SELECT count(*) FROM testkit.effects"))

        await wait_for(handled, what="the note's event handled")

        async with service.runtime.db.transaction() as session:
            for key in ("m-1", "m-2"):
                await service.runtime.timers.schedule(session, kind="remind", key=key, due_at=start)
        clock.advance(timedelta(seconds=30))
        assert await service.runtime.tick_timers() == 1  # one per tick: the other stays due

        async def backlog_drained() -> Series | None:
            series = await _scrape(service.client)
            return series if _value(series, "outbox_backlog", service="testkit") == 0 else None

        after: Series = await wait_for(backlog_drained, what="outbox_backlog back to 0")

    def delta(name: str, **labels: str) -> float:
        return (_value(after, name, **labels) or 0.0) - (_value(before, name, **labels) or 0.0)

    assert delta("events_published_total", service="testkit", type=PING) == 1
    assert delta("events_consumed_total", service="testkit", type=PING, outcome="handled") == 1
    assert delta("event_handling_duration_seconds_count", service="testkit", type=PING) == 1
    assert _value(after, "outbox_oldest_age_seconds", service="testkit") == 0
    assert delta("timers_fired_total", service="testkit", kind="remind", outcome="fired") == 1
    assert delta("timer_lag_seconds_count", service="testkit", kind="remind") == 1
    # Fired 30 s after it was due, by the test's clock.
    assert delta("timer_lag_seconds_sum", service="testkit", kind="remind") == 30
    assert _value(after, "timers_due", service="testkit") == 1
    assert (
        delta(
            "http_requests_total",
            service="testkit",
            method="POST",
            route="/v1/notes",
            status="201",
        )
        == 1
    )


async def test_ready_service_reports_each_component(db: asyncpg.Connection) -> None:
    async with running(testkit.spec) as service:
        ready = await service.client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ready",
            "checks": {
                "database": True,
                "broker": True,
                "consumer": True,
                "relay": True,
                "timers": True,
            },
        }
