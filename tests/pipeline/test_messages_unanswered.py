"""A candidate's message left unanswered longer than the configured time reminds the job's HR
(``message_unanswered``); an HR or admin reply stops the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from typing import Any

import asyncpg
import pytest

from pipeline.app import spec as pipeline_spec
from shared.clock import ManualClock
from tests.pipeline.portal_support import (
    ADMIN,
    FRIDAY_EVENING,
    HR,
    OTHER_HR,
    Arranged,
    bearer,
    issue_link,
    make_application,
    outbox,
)
from tests.support.running import Running, api, wait_for
from tests.support.tokens import auth

MESSAGE_UNANSWERED = "pipeline.message_unanswered.v1"
AFTER = timedelta(minutes=30)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(FRIDAY_EVENING.astimezone(UTC))


@pytest.fixture
async def portal(clock: ManualClock) -> AsyncIterator[Running]:
    async with api(
        pipeline_spec,
        clock=clock,
        run_timers=True,
        message_unanswered_after_minutes=int(AFTER.total_seconds() // 60),
    ) as service:
        yield service


async def _timer(db: asyncpg.Connection, arranged: Arranged) -> asyncpg.Record | None:
    return await db.fetchrow(
        "SELECT due_at, state FROM pipeline.timers WHERE kind = 'message.unanswered' AND key = $1",
        str(arranged.application_id),
    )


async def _candidate_writes(portal: Running, token: str, text: str = "any news?") -> None:
    response = await portal.client.post(
        "/v1/portal/messages", json={"body": text}, headers=bearer(token)
    )
    assert response.status_code == 201, response.text


async def _staff_writes(portal: Running, arranged: Arranged, role: str, sub: str) -> None:
    response = await portal.client.post(
        f"/v1/applications/{arranged.application_id}/messages",
        json={"body": "on it"},
        headers=auth(role, sub),
    )
    assert response.status_code == 201, response.text


async def _fire_due_timers(portal: Running, db: asyncpg.Connection, arranged: Arranged) -> None:
    """Tick until the application's timer is no longer pending (the background job may tick too)."""

    async def settled() -> bool:
        await portal.runtime.tick_timers()
        timer = await _timer(db, arranged)
        return timer is not None and timer["state"] != "pending"

    await wait_for(settled, what="the unanswered-message timer to fire")


async def _unanswered(db: asyncpg.Connection) -> list[dict[str, Any]]:
    return await outbox(db, MESSAGE_UNANSWERED)


async def test_a_candidates_message_starts_the_clock_and_a_second_one_does_not_restart_it(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)
    first_at = clock.now()

    await _candidate_writes(portal, issued["token"])
    clock.advance(timedelta(minutes=10))
    await _candidate_writes(portal, issued["token"], "hello?")

    timer = await _timer(db, arranged)
    assert timer is not None
    assert (timer["due_at"], timer["state"]) == (first_at + AFTER, "pending")


async def test_an_unanswered_message_reminds_the_jobs_owners_once_due(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    arranged = await make_application(db, owners=(HR, OTHER_HR))
    issued = await issue_link(portal.client, arranged.application_id)
    first_at = clock.now()
    await _candidate_writes(portal, issued["token"])

    clock.advance(AFTER - timedelta(seconds=1))
    await portal.runtime.tick_timers()
    assert await _unanswered(db) == []

    clock.advance(timedelta(seconds=1))
    await _fire_due_timers(portal, db, arranged)

    [event] = await _unanswered(db)
    assert event["subject"] == str(arranged.application_id)
    assert event["data"] == {
        "application_id": str(arranged.application_id),
        "job_id": str(arranged.job_id),
        "candidate_id": str(arranged.candidate_id),
        "owner_ids": [HR, OTHER_HR],
        "oldest_unanswered_at": first_at.isoformat().replace("+00:00", "Z"),
        "waited_seconds": int(AFTER.total_seconds()),
    }
    assert "any news" not in str(event)


@pytest.mark.parametrize(("role", "sub"), [("hr", HR), ("admin", ADMIN)], ids=["hr", "admin"])
async def test_a_staff_reply_stops_the_clock(
    portal: Running, db: asyncpg.Connection, clock: ManualClock, role: str, sub: str
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)
    await _candidate_writes(portal, issued["token"])
    clock.advance(timedelta(minutes=5))

    await _staff_writes(portal, arranged, role, sub)
    clock.advance(AFTER * 2)
    await portal.runtime.tick_timers()

    timer = await _timer(db, arranged)
    assert timer is not None
    assert timer["state"] == "cancelled"
    assert await _unanswered(db) == []


async def test_hrs_own_message_starts_no_clock(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    arranged = await make_application(db)

    await _staff_writes(portal, arranged, "hr", HR)

    assert await _timer(db, arranged) is None


async def test_after_a_reminder_a_new_message_starts_a_new_clock_counting_from_the_first_unanswered(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)
    first_at = clock.now()
    await _candidate_writes(portal, issued["token"])
    clock.advance(AFTER)
    await _fire_due_timers(portal, db, arranged)

    clock.advance(timedelta(hours=1))
    await _candidate_writes(portal, issued["token"], "still waiting")
    timer = await _timer(db, arranged)
    assert timer is not None
    assert (timer["due_at"], timer["state"]) == (clock.now() + AFTER, "pending")
    clock.advance(AFTER)
    await _fire_due_timers(portal, db, arranged)

    reminders = await _unanswered(db)
    assert len(reminders) == 2
    assert reminders[1]["data"]["oldest_unanswered_at"] == first_at.isoformat().replace(
        "+00:00", "Z"
    )
    assert reminders[1]["data"]["waited_seconds"] == int((clock.now() - first_at).total_seconds())


async def test_a_timer_left_over_after_a_reply_reminds_nobody(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)
    await _candidate_writes(portal, issued["token"])
    # A reply that did not go through the API (so nothing cancelled the timer).
    await db.execute(
        """INSERT INTO pipeline.messages (id, application_id, sender_kind, sender_id, body,
                                          created_at)
           VALUES (gen_random_uuid(), $1, 'hr', $2, 'answered', $3)""",
        arranged.application_id,
        HR,
        clock.now() + timedelta(minutes=1),
    )
    clock.advance(AFTER)

    await _fire_due_timers(portal, db, arranged)

    assert await _unanswered(db) == []
