"""Reading interviews: HR see their jobs', admins all, interviewers only their own."""

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
    book,
    insert_interviewer,
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


async def test_hr_list_their_jobs_interviews_soonest_first_page_by_page(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db)
    later = await world(
        db,
        job_id=w.job_id,
        starts_at=SLOT_START + timedelta(days=1),
        ends_at=SLOT_START + timedelta(days=1, hours=1),
    )
    hidden = await world(db, owners=[OTHER_HR])
    first = await book(service.client, later.proposal_id)
    second = await book(service.client, w.proposal_id)
    await book(service.client, hidden.proposal_id, subject=OTHER_HR)

    page = await service.client.get("/v1/interviews?limit=1", headers=auth("hr", HR))
    assert page.status_code == 200, page.text
    assert [i["id"] for i in page.json()["items"]] == [second["id"]]
    rest = await service.client.get(
        f"/v1/interviews?limit=1&cursor={page.json()['next_cursor']}", headers=auth("hr", HR)
    )
    assert [i["id"] for i in rest.json()["items"]] == [first["id"]]
    assert rest.json()["next_cursor"] is None

    by_job = await service.client.get(f"/v1/interviews?job_id={w.job_id}", headers=auth("hr", HR))
    assert len(by_job.json()["items"]) == 2
    foreign = await service.client.get(
        f"/v1/interviews?job_id={hidden.job_id}", headers=auth("hr", HR)
    )
    assert foreign.json()["items"] == []
    everything = await service.client.get("/v1/interviews", headers=auth("admin", "admin-zoe"))
    assert len(everything.json()["items"]) == 3
    cancelled = await service.client.get("/v1/interviews?state=cancelled", headers=auth("hr", HR))
    assert cancelled.json()["items"] == []


async def test_one_interview_for_staff_of_its_job_and_interviewers_on_it(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db)
    interview = await book(service.client, w.proposal_id)
    path = f"/v1/interviews/{interview['id']}"
    outsider = await insert_interviewer(db)

    hr = await service.client.get(path, headers=auth("hr", HR))
    assert hr.status_code == 200
    assert hr.headers["etag"] == '"1"'
    on_it = await service.client.get(
        path, headers=auth("interviewer", await subject_of(db, w.interviewer_ids[0]))
    )
    assert on_it.status_code == 200
    assert on_it.json()["id"] == interview["id"]

    assert_problem(await service.client.get(path), 401)
    assert_problem(await service.client.get(path, headers=auth("hr", OTHER_HR)), 404)
    assert_problem(
        await service.client.get(path, headers=auth("interviewer", await subject_of(db, outsider))),
        404,
    )
    assert_problem(
        await service.client.get(f"/v1/interviews/{uuid.uuid4()}", headers=auth("hr", HR)), 404
    )


async def test_an_interviewer_reads_only_their_own_schedule(
    service: Running, db: asyncpg.Connection
) -> None:
    w = await world(db)
    other = await world(db, job_id=w.job_id)
    mine = await book(service.client, w.proposal_id)
    await book(service.client, other.proposal_id)
    headers = auth("interviewer", await subject_of(db, w.interviewer_ids[0]))

    response = await service.client.get("/v1/interviewers/me/interviews", headers=headers)

    assert response.status_code == 200, response.text
    assert [i["id"] for i in response.json()["items"]] == [mine["id"]]
    later = await service.client.get(
        "/v1/interviewers/me/interviews",
        params={"since": (SLOT_START + timedelta(hours=2)).isoformat()},
        headers=headers,
    )
    assert later.json()["items"] == []


async def test_who_may_not_list(service: Running, db: asyncpg.Connection) -> None:
    assert_problem(await service.client.get("/v1/interviews"), 401)
    assert_problem(
        await service.client.get("/v1/interviews", headers=auth("interviewer", "i")), 403
    )
    assert_problem(await service.client.get("/v1/interviewers/me/interviews"), 401)
    assert_problem(
        await service.client.get("/v1/interviewers/me/interviews", headers=auth("hr", HR)), 403
    )
    # An interviewer the scheduler has no record of.
    assert_problem(
        await service.client.get(
            "/v1/interviewers/me/interviews", headers=auth("interviewer", "nobody")
        ),
        404,
    )
    assert_problem(
        await service.client.get("/v1/interviews?job_id=nope", headers=auth("hr", HR)), 422
    )
