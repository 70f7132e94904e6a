"""Interviewers confirm or decline their own place: all accepted confirms the interview; a
decline is re-staffed from the pool when someone is free, or frees the slot and re-proposes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from scheduler.app import spec
from shared.clock import ManualClock
from tests.scheduler.interviews_support import (
    HR,
    NOW,
    SLOT_END,
    SLOT_START,
    Suggested,
    book,
    bookings,
    events,
    insert_interviewer,
    insert_job,
    insert_pool,
    insert_proposal,
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


async def _as(db: asyncpg.Connection, interviewer_id: uuid.UUID) -> dict[str, str]:
    return auth("interviewer", await subject_of(db, interviewer_id))


async def test_the_interview_is_confirmed_when_every_interviewer_accepted(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db, interviewers=2)
    interview = await book(service.client, w.proposal_id)
    path = f"/v1/interviews/{interview['id']}"

    first = await service.client.post(
        f"{path}/accept", json={"comment": "Fine"}, headers=await _as(db, w.interviewer_ids[0])
    )
    assert first.status_code == 200, first.text
    assert first.json()["state"] == "booked"
    assert await events(db, "interview_confirmed") == []

    second = await service.client.post(
        f"{path}/accept", headers=await _as(db, w.interviewer_ids[1])
    )

    assert second.status_code == 200, second.text
    body = second.json()
    assert body["state"] == "confirmed"
    assert body["ics_sequence"] == 1
    assert {p["response"] for p in body["participants"]} == {"accepted"}
    [confirmed] = await events(db, "interview_confirmed")
    assert confirmed["data"]["interview_id"] == interview["id"]


async def test_a_declining_pool_member_is_replaced_by_a_free_one(
    service: Running, db: asyncpg.Connection
) -> None:
    lead = await insert_interviewer(db)
    member, stand_in, busy = [await insert_interviewer(db) for _ in range(3)]
    pool = await insert_pool(db, [member, stand_in, busy])
    job_id = await insert_job(db)
    # ``busy`` already has an interview at that hour.
    busy_world = await world(db, job_id=job_id, interviewer_ids=[busy], room=False)
    await book(service.client, busy_world.proposal_id)
    proposal_id, _, _ = await insert_proposal(
        db,
        job_id=job_id,
        suggestions=[Suggested(SLOT_START, SLOT_END, [lead, member])],
        required=[lead],
        pools=[(pool, [member, stand_in, busy], 1)],
    )
    interview = await book(service.client, proposal_id)
    assert {p["interviewer_id"]: p["pool_id"] for p in interview["participants"]} == {
        str(lead): None,
        str(member): str(pool),
    }

    response = await service.client.post(
        f"/v1/interviews/{interview['id']}/decline",
        json={"comment": "On leave"},
        headers=await _as(db, member),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "booked"
    assert {p["interviewer_id"]: p["response"] for p in body["participants"]} == {
        str(lead): "pending",
        str(member): "replaced",
        str(stand_in): "pending",
    }
    held = {b["resource_id"]: b["active"] for b in await bookings(db, uuid.UUID(body["id"]))}
    assert held == {lead: True, member: False, stand_in: True}
    [declined] = await events(db, "interviewer_declined")
    assert declined["data"]["interviewer_id"] == str(member)
    assert declined["data"]["replaced_by"] == str(stand_in)
    # The interview stands: no cancel, its reminders still set.
    assert await events(db, "interview_cancelled") == []
    assert {s for _, s in (await reminder_timers(db, uuid.UUID(body["id"]))).values()} == {
        "pending"
    }
    # The one taken off sees their copy cancelled; the stand-in sees the interview.
    replaced_ics = await service.client.get(
        f"/v1/interviews/{body['id']}/calendar.ics", headers=await _as(db, member)
    )
    assert "METHOD:CANCEL" in replaced_ics.text
    mine = await service.client.get(
        "/v1/interviewers/me/interviews", headers=await _as(db, stand_in)
    )
    assert [i["id"] for i in mine.json()["items"]] == [body["id"]]


async def test_a_decline_without_a_stand_in_frees_the_slot_and_proposes_again(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db, interviewers=2)
    interview = await book(service.client, w.proposal_id)

    response = await service.client.post(
        f"/v1/interviews/{interview['id']}/decline", headers=await _as(db, w.interviewer_ids[1])
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "cancelled"
    assert body["cancel_reason"] == "interviewer_declined"
    assert all(not b["active"] for b in await bookings(db, uuid.UUID(body["id"])))
    [declined] = await events(db, "interviewer_declined")
    assert declined["data"].get("replaced_by") is None
    [cancelled] = await events(db, "interview_cancelled")
    assert cancelled["data"]["cancelled_by"] == "interviewer"
    assert cancelled["sequence"] > declined["sequence"]
    [proposed] = await events(db, "interview_proposed")
    assert proposed["data"]["application_id"] == str(w.application_id)
    assert proposed["data"]["interview_id"] == interview["id"]
    assert {s for _, s in (await reminder_timers(db, uuid.UUID(body["id"]))).values()} == {
        "cancelled"
    }


async def test_answering_twice_or_after_a_cancel_is_409(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db, interviewers=2)
    interview = await book(service.client, w.proposal_id)
    path = f"/v1/interviews/{interview['id']}"
    declined = await service.client.post(
        f"{path}/decline", headers=await _as(db, w.interviewer_ids[0])
    )
    assert declined.status_code == 200

    assert_problem(
        await service.client.post(f"{path}/accept", headers=await _as(db, w.interviewer_ids[1])),
        409,
        "interview-not-active",
    )


async def test_who_may_not_answer(service: Running, db: asyncpg.Connection) -> None:
    w = await world(db)
    interview = await book(service.client, w.proposal_id)
    outsider = await insert_interviewer(db)
    path = f"/v1/interviews/{interview['id']}/accept"

    assert_problem(await service.client.post(path), 401)
    assert_problem(await service.client.post(path, headers=auth("hr", HR)), 403)
    assert_problem(await service.client.post(path, headers=auth("admin", "admin-zoe")), 403)
    # An interviewer of another interview, and one the scheduler does not know.
    assert_problem(await service.client.post(path, headers=await _as(db, outsider)), 404)
    assert_problem(await service.client.post(path, headers=auth("interviewer", "nobody")), 404)
    assert_problem(
        await service.client.post(
            f"/v1/interviews/{uuid.uuid4()}/decline", headers=await _as(db, w.interviewer_ids[0])
        ),
        404,
    )
