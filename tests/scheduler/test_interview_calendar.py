"""The interview as an iCalendar file (RFC 5545): stable UID, growing SEQUENCE, REQUEST while
it stands and CANCEL after, UTC times, and names only for those who may know them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import icalendar
import pytest

from scheduler.app import spec
from shared.clock import ManualClock
from tests.scheduler.interviews_support import (
    HR,
    NOW,
    OTHER_HR,
    book,
    events,
    insert_interviewer,
    insert_invitation,
    link,
    link_interview,
    reminder_timers,
    subject_of,
    world,
)
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth


@pytest.fixture
async def service() -> AsyncIterator[Running]:
    async with api(spec, clock=ManualClock(NOW)) as running:
        yield running


def _parse(body: bytes) -> tuple[Any, Any]:
    """The calendar and its one event (untyped: icalendar's property types are a wide union)."""
    calendar: Any = icalendar.Calendar.from_ical(body)
    [event] = calendar.walk("VEVENT")
    return calendar, event


async def test_staff_get_a_request_with_the_interviewers_named(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db)
    interview = await book(service.client, w.proposal_id)

    response = await service.client.get(
        f"/v1/interviews/{interview['id']}/calendar.ics", headers=auth("hr", HR)
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar, event = _parse(response.content)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(event["UID"]) == interview["ics_uid"]
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
    assert b"DTSTART:20260303T020000Z" in response.content
    assert "DTSTAMP" in event
    assert str(event["STATUS"]) == "TENTATIVE"
    assert str(event["SUMMARY"]) == "Interview: Backend engineer"
    assert str(event["LOCATION"]).endswith("Shanghai HQ, floor 12")
    assert str(event["ORGANIZER"]) == "urn:recruiting:scheduler"
    attendees = event["ATTENDEE"]
    names = sorted(str(a.params["CN"]) for a in attendees)
    assert names == ["Candidate", "Ivan Petrov"]
    assert f"urn:uuid:{w.interviewer_ids[0]}" in [str(a) for a in attendees]


async def test_the_candidate_gets_the_same_event_without_the_interviewers_names(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db)
    interview = await book(service.client, w.proposal_id)
    invitation_id, token = await insert_invitation(db, w)
    await link_interview(db, uuid.UUID(interview["id"]), invitation_id)

    response = await service.client.get("/v1/candidate/interview/calendar.ics", headers=link(token))

    assert response.status_code == 200, response.text
    assert b"Ivan" not in response.content
    assert str(w.interviewer_ids[0]).encode() not in response.content
    _, event = _parse(response.content)
    assert str(event["UID"]) == interview["ics_uid"]
    assert sorted(str(a.params["CN"]) for a in event["ATTENDEE"]) == ["Candidate", "Interviewer"]


async def test_every_change_raises_the_sequence_and_a_cancel_is_a_cancel(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db)
    interview = await book(service.client, w.proposal_id)
    path = f"/v1/interviews/{interview['id']}"
    interviewer = auth("interviewer", await subject_of(db, w.interviewer_ids[0]))

    accepted = await service.client.post(f"{path}/accept", headers=interviewer)
    assert accepted.json()["state"] == "confirmed"
    _, confirmed = _parse(
        (await service.client.get(f"{path}/calendar.ics", headers=interviewer)).content
    )
    assert (int(confirmed["SEQUENCE"]), str(confirmed["STATUS"])) == (1, "CONFIRMED")

    cancelled = await service.client.post(
        f"{path}/cancel", json={"reason": "Filled"}, headers=auth("hr", HR)
    )
    assert cancelled.status_code == 200

    calendar, event = _parse(
        (await service.client.get(f"{path}/calendar.ics", headers=interviewer)).content
    )
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 2
    assert str(event["UID"]) == interview["ics_uid"]


async def test_who_may_not_fetch_the_calendar(service: Running, db: asyncpg.Connection) -> None:
    w = await world(db)
    interview = await book(service.client, w.proposal_id)
    outsider = await insert_interviewer(db)
    path = f"/v1/interviews/{interview['id']}/calendar.ics"

    assert_problem(await service.client.get(path), 401)
    assert_problem(await service.client.get(path, headers=auth("hr", OTHER_HR)), 404)
    assert_problem(
        await service.client.get(path, headers=auth("interviewer", await subject_of(db, outsider))),
        404,
    )
    assert (await service.client.get(path, headers=auth("admin", "admin-zoe"))).status_code == 200


async def test_an_interview_across_new_yorks_spring_forward_keeps_its_times_and_reminders(
    db: asyncpg.Connection,
) -> None:
    # Sunday 8 March 2026, 10:00 in New York: clocks went from EST (UTC-5) to EDT (UTC-4)
    # at 02:00 that morning.
    starts_at = datetime(2026, 3, 8, 14, 0, tzinfo=UTC)
    interviewer = await insert_interviewer(db, time_zone="America/New_York")
    w = await world(
        db,
        interviewer_ids=[interviewer],
        room=False,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        time_zone="America/New_York",
    )
    clock = ManualClock(NOW)
    async with api(spec, clock=clock, run_timers=True) as service:
        interview = await book(service.client, w.proposal_id)
        interview_id = uuid.UUID(interview["id"])

        response = await service.client.get(
            f"/v1/interviews/{interview_id}/calendar.ics", headers=auth("hr", HR)
        )
        _, event = _parse(response.content)
        assert b"DTSTART:20260308T140000Z" in response.content
        assert b"DTEND:20260308T150000Z" in response.content
        assert "2026-03-08 10:00-11:00 America/New_York (UTC-0400)" in str(event["DESCRIPTION"])

        timers = await reminder_timers(db, interview_id)
        # A day before on New York's wall clock: Saturday 10:00 EST, 23 hours earlier.
        assert timers["before_1d"][0] == datetime(2026, 3, 7, 15, 0, tzinfo=UTC)
        # Two hours before is elapsed time: 08:00 EDT.
        assert timers["before_2h"][0] == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)

        clock.set(datetime(2026, 3, 7, 14, 59, tzinfo=UTC))
        await service.runtime.tick_timers()
        assert await _reminders(db) == []
        clock.set(datetime(2026, 3, 7, 15, 0, tzinfo=UTC))
        await service.runtime.tick_timers()
        clock.set(datetime(2026, 3, 8, 12, 0, tzinfo=UTC))
        await service.runtime.tick_timers()

    sent = await _reminders(db)
    assert [(r["reminder"], r["due_at"]) for r in sent] == [
        ("before_1d", "2026-03-07T15:00:00Z"),
        ("before_2h", "2026-03-08T12:00:00Z"),
    ]
    assert all(r["at"] == "2026-03-08T14:00:00Z" for r in sent)


async def _reminders(db: asyncpg.Connection) -> list[dict[str, object]]:
    return [e["data"] for e in await events(db, "reminder_due")]
