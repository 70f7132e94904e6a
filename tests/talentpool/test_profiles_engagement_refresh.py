"""The stored engagement (what segments filter on) follows the days: a durable timer restores
each live profile's score as of today, then waits for the next midnight."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import asyncpg

from shared.clock import ManualClock
from talentpool.app import spec as talentpool_spec
from talentpool.profiles.timers import REFRESH
from tests.support.running import running, wait_for
from tests.talentpool.profiles_support import T0, a_person


async def _stored(db: asyncpg.Connection, profile_id: uuid.UUID) -> tuple[int, dict[str, object]]:
    row = await db.fetchrow(
        "SELECT engagement_score, engagement_parts FROM talentpool.profiles WHERE id = $1",
        profile_id,
    )
    return row["engagement_score"], json.loads(row["engagement_parts"])


async def test_a_silent_persons_stored_score_loses_its_recency_day_by_day(
    db: asyncpg.Connection,
) -> None:
    # Invited twice, answered once within the hour, took one; last active 90 days ago, and
    # scored (with full recency) on that day.
    person = await a_person(db, at=T0 - timedelta(days=90))
    merged = await a_person(db, at=T0 - timedelta(days=90))
    for profile_id in (person.profile_id, merged.profile_id):
        await db.execute(
            """UPDATE talentpool.profiles SET invited_count = 2, responded_count = 1,
               completed_count = 1, response_seconds_total = 1800, responses_timed = 1,
               engagement_score = 85, engagement_parts = $2
               WHERE id = $1""",
            profile_id,
            json.dumps({"as_of": (T0 - timedelta(days=90)).date().isoformat()}),
        )
    await db.execute(
        "UPDATE talentpool.profiles SET merged_into = $1 WHERE id = $2",
        person.profile_id,
        merged.profile_id,
    )
    clock = ManualClock(T0)

    async with running(talentpool_spec, clock=clock, run_consumers=False):

        async def refreshed() -> bool:
            _, parts = await _stored(db, person.profile_id)
            return parts.get("as_of") == T0.date().isoformat()

        await wait_for(refreshed, what="the refresh")
        score, parts = await _stored(db, person.profile_id)
        pending = await db.fetch(
            "SELECT due_at FROM talentpool.timers WHERE kind = $1 AND state = 'pending'", REFRESH
        )

    assert parts == {
        "response_rate": 0.5,
        "response_speed": 1.0,
        "completion": 0.5,
        "recency": 0.5,
        "as_of": "2026-03-02",
    }
    # Recency: 90 of 180 days gone.
    assert score == round(100 * (0.35 * 0.5 + 0.15 * 1.0 + 0.30 * 0.5 + 0.20 * 0.5))
    assert [row["due_at"] for row in pending] == [T0.replace(hour=0, minute=5) + timedelta(days=1)]
    # A profile merged into another is not refreshed: its people count on the other one.
    assert await _stored(db, merged.profile_id) == (85, {"as_of": "2025-12-02"})
