"""For the campaigns tests: the whole talent pool on a manual clock (timers fired by the test),
creating and reading campaigns, firing what is due, and the re-invitations it publishes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from aio_pika.abc import AbstractQueue

from shared.clock import ManualClock
from shared.events.talentpool import ReinvitationRequestedV1
from talentpool.app import spec as talentpool_spec
from tests.support.broker import take
from tests.support.running import Running, running, wait_for
from tests.talentpool.segments_support import AS_POOL_HR, T0

REQUESTED = ReinvitationRequestedV1.event_type
POOL_HR = "hr-wang"


@asynccontextmanager
async def pool_service(clock: ManualClock) -> AsyncIterator[Running]:
    """The talent pool with its relay and consumers; its timers fire only when ``fire`` is
    called (the interval is an hour), on ``clock``."""
    async with running(
        talentpool_spec, clock=clock, timer_poll_interval_s=3600, run_workers=False
    ) as service:
        yield service


async def fire(service: Running) -> int:
    """Fire every timer due by the service's clock; how many fired."""
    total = 0
    while handled := await service.runtime.tick_timers():
        total += handled
    return total


async def a_campaign(
    service: Running,
    *,
    segment_id: str,
    job_id: uuid.UUID,
    headers: dict[str, str] = AS_POOL_HR,
    **fields: Any,
) -> dict[str, Any]:
    body = {
        "name": "Second look",
        "segment_id": segment_id,
        "job_id": str(job_id),
        "per_hour": 100,
        **fields,
    }
    response = await service.client.post("/v1/campaigns", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def campaign(
    service: Running, campaign_id: str, headers: dict[str, str] = AS_POOL_HR
) -> dict[str, Any]:
    response = await service.client.get(f"/v1/campaigns/{campaign_id}", headers=headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def recipients(
    service: Running, campaign_id: str, *, status: str | None = None
) -> list[dict[str, Any]]:
    """Every recipient (all pages, three at a time)."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "3", **({"status": status} if status else {})}
        if cursor:
            params["cursor"] = cursor
        response = await service.client.get(
            f"/v1/campaigns/{campaign_id}/recipients", params=params, headers=AS_POOL_HR
        )
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


async def published(queue: AbstractQueue, count: int) -> list[dict[str, Any]]:
    """The next ``count`` events on the tapped queue (waiting for them)."""
    seen: list[dict[str, Any]] = []

    async def enough() -> bool:
        seen.extend(orjson.loads(message.body) for message in await take(queue))
        return len(seen) >= count

    await wait_for(enough, what=f"{count} published events")
    return seen


async def all_published(db: asyncpg.Connection, queue: AbstractQueue) -> list[dict[str, Any]]:
    """What the tapped queue holds once the outbox has nothing left to publish (the relay
    publishes with confirms before it marks rows, so everything published has arrived)."""

    async def relayed() -> bool:
        left: int = await db.fetchval(
            "SELECT count(*) FROM talentpool.outbox WHERE published_at IS NULL"
        )
        return left == 0

    await wait_for(relayed, what="the outbox to be published")
    return [orjson.loads(message.body) for message in await take(queue)]


async def erasure_requested(db: asyncpg.Connection, profile_id: uuid.UUID) -> None:
    await db.execute(
        """INSERT INTO talentpool.erasure_requests (id, profile_id, candidate_ids, reason,
           requested_by, requested_at) VALUES ($1, $2, '{}', 'hr_request', 'hr-wang', $3)""",
        uuid.uuid4(),
        profile_id,
        T0,
    )
