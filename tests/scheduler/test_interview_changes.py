"""Cancels and reschedules, by HR (of the job) and by the candidate through their link."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from scheduler.app import spec
from shared.clock import ManualClock
from tests.scheduler.interviews_support import (
    HR,
    NOW,
    OTHER_HR,
    SLOT_START,
    World,
    book,
    bookings,
    events,
    insert_invitation,
    link,
    link_interview,
    reminder_timers,
    world,
)
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth

LATER = SLOT_START + timedelta(hours=4)


@pytest.fixture
async def service() -> AsyncIterator[Running]:
    async with api(spec, clock=ManualClock(NOW)) as running:
        yield running


async def _two_slot_world(db: asyncpg.Connection) -> World:
    """A world whose proposal offers a second slot four hours after the first."""
    w = await world(db)
    await db.execute(
        """UPDATE scheduler.proposals SET suggestions = suggestions || jsonb_build_array(
               jsonb_build_object('index', 1, 'starts_at', $2::text, 'ends_at', $3::text,
                                  'interviewer_ids', suggestions->0->'interviewer_ids',
                                  'room_id', suggestions->0->'room_id', 'score', 0.5,
                                  'reasons', '[]'::jsonb))
           WHERE id = $1""",
        w.proposal_id,
        LATER.isoformat(),
        (LATER + timedelta(hours=1)).isoformat(),
    )
    return w


async def test_hr_cancels_with_a_reason_freeing_everything_and_dropping_reminders(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db)
    interview = await book(service.client, w.proposal_id)
    interview_id = uuid.UUID(interview["id"])

    response = await service.client.post(
        f"/v1/interviews/{interview_id}/cancel",
        json={"reason": "The position was filled."},
        headers={**auth("hr", HR), "If-Match": '"1"'},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "cancelled"
    assert body["cancelled_by"] == "hr"
    assert body["cancel_reason"] == "The position was filled."
    assert body["ics_sequence"] == 1
    assert all(not b["active"] for b in await bookings(db, interview_id))
    [cancelled] = await events(db, "interview_cancelled")
    assert cancelled["data"]["reason"] == "The position was filled."
    assert {s for _, s in (await reminder_timers(db, interview_id)).values()} == {"cancelled"}
    # The slot is free again: another application can have it.
    other = await world(db, job_id=w.job_id, interviewer_ids=w.interviewer_ids, room_id=w.room_id)
    await book(service.client, other.proposal_id)

    again = await service.client.post(
        f"/v1/interviews/{interview_id}/cancel", json={"reason": "x"}, headers=auth("hr", HR)
    )
    assert_problem(again, 409, "interview-not-active")


async def test_a_stale_if_match_is_412_and_a_missing_reason_422(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db)
    interview = await book(service.client, w.proposal_id)
    path = f"/v1/interviews/{interview['id']}/cancel"

    assert_problem(
        await service.client.post(
            path, json={"reason": "x"}, headers={**auth("hr", HR), "If-Match": '"7"'}
        ),
        412,
        "version-mismatch",
    )
    assert_problem(await service.client.post(path, json={}, headers=auth("hr", HR)), 422)


async def test_hr_reschedules_to_another_suggestion_in_one_step(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await _two_slot_world(db)
    interview = await book(service.client, w.proposal_id)
    interview_id = uuid.UUID(interview["id"])

    response = await service.client.post(
        f"/v1/interviews/{interview_id}/reschedule",
        json={"slot_index": 1, "reason": "Exam that morning"},
        headers=auth("hr", HR),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["starts_at"] == "2026-03-03T06:00:00Z"
    assert body["ics_sequence"] == 1
    assert body["state"] == "booked"
    held = await bookings(db, interview_id)
    assert [b["active"] for b in held if b["start"] < LATER - timedelta(minutes=10)] == [
        False,
        False,
    ]
    assert {(b["start"], b["active"]) for b in held if b["active"]} == {
        (LATER - timedelta(minutes=10), True)
    }
    [_, moved] = await events(db, "interview_booked")
    assert moved["data"]["rescheduled_from"] == {
        "starts_at": "2026-03-03T02:00:00Z",
        "ends_at": "2026-03-03T03:00:00Z",
    }
    timers = await reminder_timers(db, interview_id)
    assert timers["before_2h"] == (LATER - timedelta(hours=2), "pending")
    assert timers["before_1d"] == (LATER - timedelta(days=1), "pending")


async def test_rescheduling_by_half_an_hour_may_overlap_its_own_old_slot(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db)
    interview = await book(service.client, w.proposal_id)
    shifted = SLOT_START + timedelta(minutes=30)

    response = await service.client.post(
        f"/v1/interviews/{interview['id']}/reschedule",
        json={
            "slot": {
                "starts_at": shifted.isoformat(),
                "ends_at": (shifted + timedelta(hours=1)).isoformat(),
                "interviewer_ids": [str(i) for i in w.interviewer_ids],
                "room_id": str(w.room_id),
            }
        },
        headers=auth("admin", "admin-zoe"),
    )

    assert response.status_code == 200, response.text
    assert response.json()["starts_at"] == "2026-03-03T02:30:00Z"


async def test_rescheduling_onto_a_taken_slot_is_409_and_changes_nothing(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await _two_slot_world(db)
    interview = await book(service.client, w.proposal_id)
    blocker = await world(
        db,
        job_id=w.job_id,
        interviewer_ids=w.interviewer_ids,
        room_id=w.room_id,
        starts_at=LATER,
        ends_at=LATER + timedelta(hours=1),
    )
    await book(service.client, blocker.proposal_id)

    response = await service.client.post(
        f"/v1/interviews/{interview['id']}/reschedule",
        json={"slot_index": 1},
        headers=auth("hr", HR),
    )

    problem = assert_problem(response, 409, "slot-taken")
    assert problem["proposal_id"]
    read = await service.client.get(f"/v1/interviews/{interview['id']}", headers=auth("hr", HR))
    assert read.json()["starts_at"] == "2026-03-03T02:00:00Z"
    assert read.json()["ics_sequence"] == 0
    held = await bookings(db, uuid.UUID(interview["id"]))
    assert [b["active"] for b in held] == [True, True]


async def test_rescheduling_with_a_proposal_of_another_application_is_404(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db)
    other = await world(db, job_id=w.job_id)
    interview = await book(service.client, w.proposal_id)

    response = await service.client.post(
        f"/v1/interviews/{interview['id']}/reschedule",
        json={"slot_index": 0, "proposal_id": str(other.proposal_id)},
        headers=auth("hr", HR),
    )

    assert_problem(response, 404)


async def test_who_may_not_cancel_or_reschedule(service: Running, db: asyncpg.Connection) -> None:
    w = await world(db)
    interview = await book(service.client, w.proposal_id)
    subject = await db.fetchval(
        "SELECT subject FROM scheduler.interviewers WHERE id = $1", w.interviewer_ids[0]
    )
    for action, body in (("cancel", {"reason": "x"}), ("reschedule", {"slot_index": 0})):
        path = f"/v1/interviews/{interview['id']}/{action}"
        assert_problem(await service.client.post(path, json=body), 401)
        # Even an interviewer on it may not: they decline instead.
        assert_problem(
            await service.client.post(path, json=body, headers=auth("interviewer", subject)), 403
        )
        assert_problem(
            await service.client.post(path, json=body, headers=auth("hr", OTHER_HR)), 404
        )


# The candidate, through their invitation's link.


async def _candidate(
    service: Running, db: asyncpg.Connection, w: World
) -> tuple[dict[str, object], str]:
    interview = await book(service.client, w.proposal_id)
    invitation_id, token = await insert_invitation(db, w)
    await link_interview(db, uuid.UUID(str(interview["id"])), invitation_id)
    return interview, token


async def test_the_candidate_sees_when_and_where_but_not_who(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db, interviewers=2)
    interview, token = await _candidate(service, db, w)

    response = await service.client.get("/v1/candidate/interview", headers=link(token))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == interview["id"]
    assert body["local_start"] == "2026-03-03T10:00:00+08:00"
    assert body["interviewers"] == 2
    assert "participants" not in body and "candidate_id" not in body
    assert body["location"].startswith("Shanghai HQ, floor 12")


async def test_the_candidate_cancels_with_a_reason(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db)
    interview, token = await _candidate(service, db, w)

    response = await service.client.post(
        "/v1/candidate/interview/cancel",
        json={"reason": "I took another offer"},
        headers=link(token),
    )

    assert response.status_code == 200, response.text
    assert response.json()["state"] == "cancelled"
    [cancelled] = await events(db, "interview_cancelled")
    assert cancelled["data"]["cancelled_by"] == "candidate"
    assert all(not b["active"] for b in await bookings(db, uuid.UUID(str(interview["id"]))))


async def test_the_candidate_reschedules_to_another_suggestion_but_not_a_slot_of_their_own(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await _two_slot_world(db)
    _, token = await _candidate(service, db, w)

    own = await service.client.post(
        "/v1/candidate/interview/reschedule",
        json={"slot": {"starts_at": LATER.isoformat(), "ends_at": LATER.isoformat()}},
        headers=link(token),
    )
    assert_problem(own, 422)
    unknown = await service.client.post(
        "/v1/candidate/interview/reschedule", json={"slot_index": 5}, headers=link(token)
    )
    assert_problem(unknown, 422, "slot-not-offered")

    response = await service.client.post(
        "/v1/candidate/interview/reschedule", json={"slot_index": 1}, headers=link(token)
    )

    assert response.status_code == 200, response.text
    assert response.json()["starts_at"] == "2026-03-03T06:00:00Z"
    [_, moved] = await events(db, "interview_booked")
    assert moved["data"]["rescheduled_from"]["starts_at"] == "2026-03-03T02:00:00Z"


async def test_candidate_links_that_do_not_fit_are_refused(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db)
    await _candidate(service, db, w)
    # Another candidate's invitation, not booked yet: their link reaches no interview.
    other = await world(db, job_id=w.job_id, starts_at=LATER, ends_at=LATER + timedelta(hours=1))
    _, other_token = await insert_invitation(db, other)
    _, expired = await insert_invitation(
        db, await world(db, job_id=w.job_id), expires_at=NOW - timedelta(minutes=1)
    )
    _, revoked = await insert_invitation(db, await world(db, job_id=w.job_id), revoked=True)

    for method, path, body in (
        ("GET", "/v1/candidate/interview", None),
        ("GET", "/v1/candidate/interview/calendar.ics", None),
        ("POST", "/v1/candidate/interview/cancel", {"reason": "x"}),
        ("POST", "/v1/candidate/interview/reschedule", {"slot_index": 0}),
    ):
        assert_problem(await service.client.request(method, path, json=body), 401)
        assert_problem(
            await service.client.request(method, path, json=body, headers=link("not-a-token")),
            401,
        )
        assert_problem(
            await service.client.request(method, path, json=body, headers=link(other_token)),
            404,
        )
        assert_problem(
            await service.client.request(method, path, json=body, headers=link(expired)), 410
        )
        assert_problem(
            await service.client.request(method, path, json=body, headers=link(revoked)), 410
        )
        # A staff token is not a link.
        assert_problem(
            await service.client.request(method, path, json=body, headers=auth("hr", HR)), 401
        )
    assert await db.fetchval("SELECT count(*) FROM scheduler.bookings WHERE active") == 2
