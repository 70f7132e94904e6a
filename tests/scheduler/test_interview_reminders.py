"""Reminders of an interview: durable timers set at booking, sent as ``reminder_due`` to the
candidate and the interviewers, and never after a cancel or for a time already past."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from scheduler.app import spec
from shared.clock import ManualClock
from tests.scheduler.interviews_support import (
    HR,
    NOW,
    SLOT_START,
    book,
    events,
    reminder_timers,
    world,
)
from tests.support.running import api
from tests.support.tokens import auth


async def test_reminders_come_a_day_and_two_hours_before_for_candidate_and_interviewers(
    db: asyncpg.Connection,
) -> None:
    w = await world(db)
    clock = ManualClock(NOW)
    async with api(spec, clock=clock, run_timers=True) as service:
        interview = await book(service.client, w.proposal_id)
        clock.set(SLOT_START - timedelta(days=1, seconds=1))
        await service.runtime.tick_timers()
        assert await events(db, "reminder_due") == []
        clock.set(SLOT_START - timedelta(days=1))
        await service.runtime.tick_timers()
        clock.set(SLOT_START - timedelta(hours=2))
        await service.runtime.tick_timers()

    sent = await events(db, "reminder_due")
    assert [e["data"]["reminder"] for e in sent] == ["before_1d", "before_2h"]
    first = sent[0]["data"]
    assert first["subject_kind"] == "interview"
    assert first["subject_id"] == interview["id"]
    assert first["application_id"] == str(w.application_id)
    assert sorted(first["recipients"]) == ["candidate", "interviewers"]
    assert first["at"] == "2026-03-03T02:00:00Z"


async def test_no_reminder_comes_after_a_cancel(db: asyncpg.Connection) -> None:
    w = await world(db)
    clock = ManualClock(NOW)
    async with api(spec, clock=clock, run_timers=True) as service:
        interview = await book(service.client, w.proposal_id)
        cancelled = await service.client.post(
            f"/v1/interviews/{interview['id']}/cancel",
            json={"reason": "Filled"},
            headers=auth("hr", HR),
        )
        assert cancelled.status_code == 200
        clock.set(SLOT_START)
        await service.runtime.tick_timers()

    assert await events(db, "reminder_due") == []
    assert {s for _, s in (await reminder_timers(db, uuid.UUID(interview["id"]))).values()} == {
        "cancelled"
    }


async def test_a_reminder_whose_time_has_passed_at_booking_is_not_sent(
    db: asyncpg.Connection,
) -> None:
    # Booked 3 hours ahead: the day-before reminder is already past, the 2-hour one is not.
    now = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)
    w = await world(db)
    clock = ManualClock(now)
    async with api(spec, clock=clock, run_timers=True) as service:
        interview = await book(service.client, w.proposal_id)
        assert set(await reminder_timers(db, uuid.UUID(interview["id"]))) == {"before_2h"}
        clock.set(SLOT_START)
        await service.runtime.tick_timers()

    assert [e["data"]["reminder"] for e in await events(db, "reminder_due")] == ["before_2h"]


async def test_the_reminder_offsets_come_from_the_settings(db: asyncpg.Connection) -> None:
    w = await world(db)
    async with api(
        spec, clock=ManualClock(NOW), interview_reminder_minutes=[45, 3 * 24 * 60]
    ) as service:
        interview = await book(service.client, w.proposal_id)

    # Three days before is already past at booking.
    assert await reminder_timers(db, uuid.UUID(interview["id"])) == {
        "before_45m": (SLOT_START - timedelta(minutes=45), "pending")
    }
