"""No double booking, whatever the timing: 200 bookings of one slot at once leave exactly one,
and a booking the in-transaction re-check could not see is stopped by the exclusion
constraint (and answered 409, never 500)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

import asyncpg
import pytest

from scheduler.app import spec
from shared.clock import ManualClock
from tests.scheduler.interviews_support import (
    HR,
    NOW,
    SLOT_END,
    SLOT_START,
    world,
)
from tests.support import database
from tests.support.problems import assert_problem
from tests.support.running import api, wait_for
from tests.support.tokens import auth

CONCURRENT = 200


async def test_200_concurrent_bookings_of_one_slot_leave_exactly_one(
    db: asyncpg.Connection,
) -> None:
    first = await world(db)
    # 200 applications, each with its own proposal offering the same interviewer, room and hour.
    proposals = [first.proposal_id]
    for _ in range(CONCURRENT - 1):
        other = await world(
            db, job_id=first.job_id, interviewer_ids=first.interviewer_ids, room_id=first.room_id
        )
        proposals.append(other.proposal_id)
    headers = auth("hr", HR)
    # A pool wide enough for many requests to hold a connection at the same moment.
    async with api(
        spec,
        clock=ManualClock(NOW),
        db_pool_size=30,
        db_max_overflow=0,
        db_pool_timeout_s=120,
        db_statement_timeout_ms=120_000,
    ) as service:
        pool = service.runtime.db.engine.pool
        peak = 0
        done = asyncio.Event()

        async def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, pool.checkedout())  # type: ignore[attr-defined]
                await asyncio.sleep(0)

        sampler = asyncio.create_task(sample())
        responses = await asyncio.gather(
            *(
                service.client.post(
                    f"/v1/proposals/{proposal_id}/bookings", json={"slot_index": 0}, headers=headers
                )
                for proposal_id in proposals
            )
        )
        done.set()
        await sampler

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: CONCURRENT - 1}, statuses
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "slot-taken")
    assert peak > 1, "the bookings did not overlap in time"
    assert await db.fetchval("SELECT count(*) FROM scheduler.interviews") == 1
    assert await db.fetchval("SELECT count(*) FROM scheduler.bookings WHERE active") == 2
    assert (
        await db.fetchval(
            "SELECT count(*) FROM scheduler.bookings WHERE resource_id = $1",
            first.interviewer_ids[0],
        )
        == 1
    )


async def test_a_booking_committed_meanwhile_is_stopped_by_the_exclusion_constraint(
    db: asyncpg.Connection,
) -> None:
    w = await world(db)
    other = await world(db, job_id=w.job_id, interviewer_ids=w.interviewer_ids, room_id=w.room_id)
    intruder = await asyncpg.connect(database.test_dsn())
    try:
        # Another transaction holds the interviewer for an overlapping half hour, not yet
        # committed: the booking's re-check cannot see it.
        transaction = intruder.transaction()
        await transaction.start()
        interview_id = uuid.uuid4()
        await intruder.execute(
            """INSERT INTO scheduler.interviews
                   (id, application_id, job_id, candidate_id, proposal_id, state, starts_at,
                    ends_at, candidate_time_zone, ics_uid, version, created_by, created_at,
                    updated_at)
               VALUES ($1, $2, $3, $4, $5, 'booked', $6, $7, 'UTC', $8, 1, 'other', $9, $9)""",
            interview_id,
            other.application_id,
            w.job_id,
            other.candidate_id,
            other.proposal_id,
            SLOT_END - timedelta(minutes=30),
            SLOT_END + timedelta(minutes=30),
            f"{interview_id}@test",
            NOW,
        )
        await intruder.execute(
            """INSERT INTO scheduler.bookings (interview_id, resource_kind, resource_id, during)
               VALUES ($1, 'interviewer', $2, tstzrange($3, $4))""",
            interview_id,
            w.interviewer_ids[0],
            SLOT_END - timedelta(minutes=30),
            SLOT_END + timedelta(minutes=30),
        )
        async with api(spec, clock=ManualClock(NOW)) as service:
            booking = asyncio.create_task(
                service.client.post(
                    f"/v1/proposals/{w.proposal_id}/bookings",
                    json={"slot_index": 0},
                    headers=auth("hr", HR),
                )
            )

            async def blocked_on_the_intruder() -> bool:
                waiting = await db.fetchval(
                    """SELECT count(*) FROM pg_stat_activity
                       WHERE datname = current_database() AND wait_event_type = 'Lock'
                         AND query LIKE 'INSERT INTO scheduler.bookings%'"""
                )
                return bool(waiting)

            await wait_for(blocked_on_the_intruder, timeout=10, what="the booking to wait")
            await transaction.commit()
            response = await booking
    finally:
        await intruder.close()

    problem = assert_problem(response, 409, "slot-taken")
    assert "meanwhile" in problem["detail"]
    assert (
        await db.fetchval(
            "SELECT count(*) FROM scheduler.interviews WHERE proposal_id = $1", w.proposal_id
        )
        == 0
    )
    assert await db.fetchval("SELECT count(*) FROM scheduler.bookings") == 1


async def test_the_database_refuses_overlapping_active_bookings_of_one_resource(
    db: asyncpg.Connection,
) -> None:
    w = await world(db)
    interview_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO scheduler.interviews
               (id, application_id, job_id, candidate_id, state, starts_at, ends_at,
                candidate_time_zone, ics_uid, version, created_by, created_at, updated_at)
           VALUES ($1, $2, $3, $4, 'booked', $5, $6, 'UTC', $7, 1, 'x', $8, $8)""",
        interview_id,
        w.application_id,
        w.job_id,
        w.candidate_id,
        SLOT_START,
        SLOT_END,
        f"{interview_id}@test",
        NOW,
    )
    insert = """INSERT INTO scheduler.bookings
                    (interview_id, resource_kind, resource_id, during, active)
                VALUES ($1, 'room', $2, tstzrange($3, $4), $5)"""
    await db.execute(insert, interview_id, w.room_id, SLOT_START, SLOT_END, True)
    # Touching ends do not overlap ([a, b) and [b, c)); inactive bookings do not count.
    await db.execute(insert, interview_id, w.room_id, SLOT_END, SLOT_END + timedelta(hours=1), True)
    await db.execute(insert, interview_id, w.room_id, SLOT_START, SLOT_END, False)

    with pytest.raises(asyncpg.exceptions.ExclusionViolationError):
        await db.execute(
            insert,
            interview_id,
            w.room_id,
            SLOT_START + timedelta(minutes=59),
            SLOT_END + timedelta(minutes=30),
            True,
        )
