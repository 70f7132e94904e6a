"""Booking a slot of a proposal: every resource held all or nothing, re-checked inside the
transaction, and a taken slot answered with 409 and fresh suggestions, never a 500."""

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
    SLOT_END,
    SLOT_START,
    bookings,
    events,
    insert_interviewer,
    iso,
    reminder_timers,
    world,
)
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth


@pytest.fixture
async def service() -> AsyncIterator[Running]:
    async with api(spec, clock=ManualClock(NOW)) as running:
        yield running


def _path(proposal_id: uuid.UUID) -> str:
    return f"/v1/proposals/{proposal_id}/bookings"


async def test_booking_a_suggestion_holds_each_interviewer_and_the_room_with_buffers(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db, interviewers=2)

    response = await service.client.post(
        _path(w.proposal_id), json={"slot_index": 0}, headers=auth("hr", HR)
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "booked"
    assert body["starts_at"] == "2026-03-03T02:00:00Z"
    assert body["ics_sequence"] == 0
    assert body["remote"] is False
    assert sorted(p["interviewer_id"] for p in body["participants"]) == sorted(
        str(i) for i in w.interviewer_ids
    )
    assert {p["response"] for p in body["participants"]} == {"pending"}
    held = await bookings(db, uuid.UUID(body["id"]))
    assert sorted((b["resource_kind"], b["resource_id"]) for b in held) == sorted(
        [("interviewer", i) for i in w.interviewer_ids] + [("room", w.room_id)]
    )
    # The proposal's 10-minute buffers either side are held too.
    assert {(b["start"], b["end"], b["active"]) for b in held} == {
        (SLOT_START - timedelta(minutes=10), SLOT_END + timedelta(minutes=10), True)
    }
    [booked] = await events(db, "interview_booked")
    assert booked["subject"] == body["id"]
    assert booked["sequence"] == 1
    assert sorted(booked["data"]["interviewer_ids"]) == sorted(str(i) for i in w.interviewer_ids)
    assert booked["data"]["room_id"] == str(w.room_id)
    assert booked["data"].get("rescheduled_from") is None
    timers = await reminder_timers(db, uuid.UUID(body["id"]))
    assert timers == {
        "before_1d": (SLOT_START - timedelta(days=1), "pending"),
        "before_2h": (SLOT_START - timedelta(hours=2), "pending"),
    }


async def test_booking_an_explicit_slot_of_ones_own_is_remote_without_a_room(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db, room=False)
    other = await insert_interviewer(db)
    start = SLOT_START + timedelta(hours=5)

    response = await service.client.post(
        _path(w.proposal_id),
        json={
            "slot": {
                "starts_at": iso(start),
                "ends_at": iso(start + timedelta(minutes=45)),
                "interviewer_ids": [str(w.interviewer_ids[0]), str(other)],
            }
        },
        headers=auth("admin", "admin-zoe"),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["remote"] is True and body["room_id"] is None
    assert len(await bookings(db, uuid.UUID(body["id"]))) == 2


async def test_a_taken_slot_answers_409_with_a_stored_fresh_proposal(
    service: Running, db: asyncpg.Connection
) -> None:
    first = await world(db)
    second = await world(
        db, job_id=first.job_id, interviewer_ids=first.interviewer_ids, room_id=first.room_id
    )
    booked = await service.client.post(
        _path(first.proposal_id), json={"slot_index": 0}, headers=auth("hr", HR)
    )
    assert booked.status_code == 201, booked.text

    response = await service.client.post(
        _path(second.proposal_id), json={"slot_index": 0}, headers=auth("hr", HR)
    )

    problem = assert_problem(response, 409, "slot-taken")
    fresh = uuid.UUID(problem["proposal_id"])
    stored = await db.fetchrow(
        "SELECT application_id FROM scheduler.proposals WHERE id = $1", fresh
    )
    assert stored is not None and stored["application_id"] == second.application_id
    # The fresh suggestions avoid the booked hour (and its buffers).
    assert problem["suggestions"], problem
    for suggestion in problem["suggestions"]:
        start = suggestion["starts_at"]
        assert not (
            iso(SLOT_START - timedelta(minutes=80)) < start < iso(SLOT_END + timedelta(minutes=10))
        )
    assert await db.fetchval("SELECT count(*) FROM scheduler.interviews") == 1
    assert len(await events(db, "interview_proposed")) == 1


async def test_an_index_the_proposal_does_not_have_is_422(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db)

    response = await service.client.post(
        _path(w.proposal_id), json={"slot_index": 3}, headers=auth("hr", HR)
    )

    assert_problem(response, 422, "slot-not-offered")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"slot_index": 0, "slot": {"starts_at": iso(SLOT_START), "ends_at": iso(SLOT_END)}},
        {"slot": {"starts_at": iso(SLOT_END), "ends_at": iso(SLOT_START)}},
        {"slot": {"starts_at": iso(SLOT_START), "ends_at": iso(SLOT_START + timedelta(hours=9))}},
        {"slot_index": -1},
    ],
)
async def test_malformed_choices_are_422(
    service: Running, db: asyncpg.Connection, body: dict[str, object]
) -> None:
    w = await world(db)

    response = await service.client.post(_path(w.proposal_id), json=body, headers=auth("hr", HR))

    assert_problem(response, 422)


async def test_an_unknown_interviewer_in_an_explicit_slot_is_422(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db, room=False)

    response = await service.client.post(
        _path(w.proposal_id),
        json={
            "slot": {
                "starts_at": iso(SLOT_START),
                "ends_at": iso(SLOT_END),
                "interviewer_ids": [str(uuid.uuid4())],
            }
        },
        headers=auth("hr", HR),
    )

    assert_problem(response, 422, "unknown-resource")


async def test_booking_the_same_proposal_twice_is_409_already_booked(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db)
    first = await service.client.post(
        _path(w.proposal_id), json={"slot_index": 0}, headers=auth("hr", HR)
    )
    assert first.status_code == 201

    again = await service.client.post(
        _path(w.proposal_id), json={"slot_index": 0}, headers=auth("hr", HR)
    )

    assert_problem(again, 409, "already-booked")


async def test_a_slot_that_has_begun_is_taken(service: Running, db: asyncpg.Connection) -> None:
    w = await world(db, starts_at=NOW - timedelta(minutes=30), ends_at=NOW + timedelta(minutes=30))

    response = await service.client.post(
        _path(w.proposal_id), json={"slot_index": 0}, headers=auth("hr", HR)
    )

    problem = assert_problem(response, 409, "slot-taken")
    assert "begun" in problem["detail"]


async def test_an_interviewer_at_their_daily_cap_cannot_be_booked(
    service: Running, db: asyncpg.Connection
) -> None:
    capped = await insert_interviewer(db, max_per_day=1)
    first = await world(db, interviewer_ids=[capped], room=False)
    later = SLOT_START + timedelta(hours=3)
    second = await world(
        db,
        job_id=first.job_id,
        interviewer_ids=[capped],
        room=False,
        starts_at=later,
        ends_at=later + timedelta(hours=1),
    )
    ok = await service.client.post(
        _path(first.proposal_id), json={"slot_index": 0}, headers=auth("hr", HR)
    )
    assert ok.status_code == 201

    response = await service.client.post(
        _path(second.proposal_id), json={"slot_index": 0}, headers=auth("hr", HR)
    )

    problem = assert_problem(response, 409, "slot-taken")
    assert "daily cap" in problem["detail"]


async def test_a_repeated_idempotency_key_replays_the_booking(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db)
    headers = {**auth("hr", HR), "Idempotency-Key": "book-1"}

    first = await service.client.post(_path(w.proposal_id), json={"slot_index": 0}, headers=headers)
    again = await service.client.post(_path(w.proposal_id), json={"slot_index": 0}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"


async def test_who_may_not_book(service: Running, db: asyncpg.Connection) -> None:
    w = await world(db)
    path = _path(w.proposal_id)

    assert_problem(await service.client.post(path, json={"slot_index": 0}), 401)
    assert_problem(
        await service.client.post(path, json={"slot_index": 0}, headers=auth("interviewer", "i")),
        403,
    )
    assert_problem(
        await service.client.post(path, json={"slot_index": 0}, headers=auth("hr", OTHER_HR)),
        404,
    )
    assert_problem(
        await service.client.post(
            _path(uuid.uuid4()), json={"slot_index": 0}, headers=auth("hr", HR)
        ),
        404,
    )
    assert await db.fetchval("SELECT count(*) FROM scheduler.bookings") == 0
