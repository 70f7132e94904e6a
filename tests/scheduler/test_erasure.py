"""The scheduler's part of an erasure: the talent pool's ``erasure_requested`` leaves nothing of
the candidate's time zone, windows or free text, closes their open invitations, stops their
links and reminders, and is confirmed with ``scheduler.erasure_completed.v1``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from scheduler.app import spec as scheduler_spec
from shared.clock import ManualClock
from shared.events.envelope import CloudEvent
from shared.events.talentpool import ErasureRequestedV1
from tests.scheduler.invitations_support import World, candidate, events, start_clock
from tests.support.broker import publish
from tests.support.pii import leftovers
from tests.support.running import Running, running, wait_for

ZONE = "Asia/Kolkata"


@pytest.fixture
def clock() -> ManualClock:
    return start_clock()


@pytest.fixture
async def scheduler(clock: ManualClock) -> AsyncIterator[Running]:
    """The scheduler consuming from its queue, its outbox kept (no relay), timers only when
    the test ticks them."""
    async with running(
        scheduler_spec, clock=clock, run_relay=False, timer_poll_interval_s=3600
    ) as service:
        yield service


def _erasure_requested(candidate_ids: list[uuid.UUID], erasure_id: uuid.UUID) -> CloudEvent:
    now = datetime.now(UTC)
    data = ErasureRequestedV1(
        erasure_id=erasure_id,
        profile_id=uuid.uuid4(),
        candidate_ids=candidate_ids,
        reason="candidate_request",
        requested_at=now,
    )
    return CloudEvent(
        id=uuid.uuid4(),
        source="/talentpool",
        type=data.event_type,
        time=now,
        subject=str(erasure_id),
        data=data.model_dump(mode="json"),
    )


async def _send(amqp: AbstractRobustConnection, event: CloudEvent) -> None:
    await publish(
        amqp,
        event.model_dump_json(exclude_none=True).encode(),
        routing_key=event.type,
        message_type=event.type,
    )


async def _confirmations(db: asyncpg.Connection, count: int) -> list[dict[str, Any]]:
    async def confirmed() -> list[dict[str, Any]] | None:
        found = await events(db, "erasure_completed")
        return found if len(found) >= count else None

    found: list[dict[str, Any]] = await wait_for(confirmed, what=f"{count} confirmation(s)")
    return found


async def _a_candidate_with_an_interview_and_an_open_invitation(
    world: World,
) -> tuple[uuid.UUID, dict[str, Any], dict[str, Any]]:
    candidate_id = uuid.uuid4()
    booked = await world.invite(candidate_id=str(candidate_id), candidate_time_zone=ZONE)
    picked = await world.client.post(
        "/v1/candidate/invitation/pick",
        json={"slot_index": 0},
        headers=candidate(booked["link_token"]),
    )
    assert picked.status_code == 200, picked.text
    waiting = await world.invite(candidate_id=str(candidate_id), candidate_time_zone=ZONE)
    window = await world.client.post(
        "/v1/candidate/invitation/custom-window",
        json={"starts_at": "2026-03-04T20:00:00", "ends_at": "2026-03-04T22:00:00"},
        headers=candidate(waiting["link_token"]),
    )
    assert window.status_code == 200, window.text
    return candidate_id, booked, waiting


async def test_erasure_leaves_nothing_of_the_candidate_in_the_scheduler(
    scheduler: Running,
    clock: ManualClock,
    db: asyncpg.Connection,
    amqp: AbstractRobustConnection,
) -> None:
    world = await World(db, scheduler, clock).setup()
    candidate_id, booked, waiting = await _a_candidate_with_an_interview_and_an_open_invitation(
        world
    )
    assert await leftovers(db, ["scheduler"], needles=[ZONE]) != []
    erasure_id = uuid.uuid4()

    await _send(amqp, _erasure_requested([candidate_id], erasure_id))

    [confirmation] = await _confirmations(db, 1)
    assert confirmation["erasure_id"] == str(erasure_id)
    assert confirmation["candidate_ids"] == [str(candidate_id)]
    assert confirmation["erased"]["invitations"] == 2
    assert confirmation["erased"]["interviews"] == 1
    assert confirmation["erased"]["link_tokens"] == 2
    assert await leftovers(db, ["scheduler"], needles=[ZONE]) == []
    closed = await world.invitation_row(waiting["id"])
    assert (closed["state"], closed["cancelled_by"], closed["custom_window"]) == (
        "cancelled",
        "erasure",
        None,
    )
    assert (await world.invitation_row(booked["id"]))["state"] == "booked"
    for invitation in (booked, waiting):
        view = await world.client.get(
            "/v1/candidate/invitation", headers=candidate(invitation["link_token"])
        )
        assert view.status_code == 401
    pending = await db.fetchval(
        "SELECT count(*) FROM scheduler.timers WHERE state = 'pending' AND payload::text LIKE $1",
        f"%{booked['id']}%",
    )
    assert pending == 0
    assert await world.tick_until_idle() == 0


async def test_a_second_erasure_request_erases_nothing_new_and_confirms_again(
    scheduler: Running,
    clock: ManualClock,
    db: asyncpg.Connection,
    amqp: AbstractRobustConnection,
) -> None:
    world = await World(db, scheduler, clock).setup()
    candidate_id, _, _ = await _a_candidate_with_an_interview_and_an_open_invitation(world)
    erasure_id = uuid.uuid4()
    await _send(amqp, _erasure_requested([candidate_id], erasure_id))
    await _confirmations(db, 1)

    await _send(amqp, _erasure_requested([candidate_id], erasure_id))

    first, second = await _confirmations(db, 2)
    assert first["erased"] != {}
    assert second["erased"] == {}


async def test_erasing_one_candidate_leaves_the_others_alone(
    scheduler: Running,
    clock: ManualClock,
    db: asyncpg.Connection,
    amqp: AbstractRobustConnection,
) -> None:
    world = await World(db, scheduler, clock).setup()
    erased, _, _ = await _a_candidate_with_an_interview_and_an_open_invitation(world)
    kept = await world.invite(candidate_time_zone=ZONE)

    await _send(amqp, _erasure_requested([erased], uuid.uuid4()))

    await _confirmations(db, 1)
    row = await world.invitation_row(kept["id"])
    assert (row["state"], row["candidate_time_zone"]) == ("sent", ZONE)
    view = await world.client.get("/v1/candidate/invitation", headers=candidate(kept["link_token"]))
    assert view.status_code == 200
