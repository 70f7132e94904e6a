"""The proposals API: ranked slots from the database's availability, diagnostics, the
``interview_proposed`` event, bad input, and who may call it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from scheduler.app import spec as scheduler_spec
from shared.clock import ManualClock
from tests.scheduler.proposals_support import (
    insert_need,
    insert_pool,
    proposal_body,
    proposed_events,
)
from tests.scheduler.resources_support import (
    HR,
    NOW,
    OTHER_HR,
    insert_booking,
    insert_busy_block,
    insert_interviewer,
    insert_job,
    insert_room,
)
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth


@pytest.fixture
async def service() -> AsyncIterator[Running]:
    async with api(scheduler_spec, clock=ManualClock(NOW)) as running:
        yield running


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    """A March 2026 local time in Shanghai (UTC+8), as UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


async def _post(
    service: Running, application_id: uuid.UUID, body: dict[str, Any], **headers: str
) -> Any:
    return await service.client.post(
        f"/v1/applications/{application_id}/proposals",
        json=body,
        headers={**auth(), **headers},
    )


async def _arrange(db: asyncpg.Connection) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    job_id = await insert_job(db)
    interviewer_id = await insert_interviewer(db)
    room_id = await insert_room(db, capacity=6)
    return job_id, interviewer_id, room_id


async def test_hr_owning_the_job_gets_ranked_slots_stored_and_announced(
    service: Running, db: asyncpg.Connection
) -> None:
    job_id, interviewer_id, room_id = await _arrange(db)
    application_id, candidate_id = uuid.uuid4(), uuid.uuid4()
    # Tuesday 09:00-12:00 taken by a meeting, so Tuesday afternoon is the first free time.
    await insert_busy_block(db, interviewer_id, shanghai(3, 9), shanghai(3, 12))
    body = proposal_body(
        job_id=str(job_id),
        candidate_id=str(candidate_id),
        interviewer_ids=[str(interviewer_id)],
        room={"kind": "capacity", "min_capacity": 4},
        buffer_after_minutes=10,
        spread_days=True,
    )

    response = await _post(service, application_id, body)

    assert response.status_code == 201, response.text
    proposal = response.json()
    assert response.headers["location"] == f"/v1/proposals/{proposal['id']}"
    assert proposal["application_id"] == str(application_id)
    assert proposal["job_id"] == str(job_id)
    assert proposal["created_by"] == HR
    suggestions = proposal["suggestions"]
    assert [s["index"] for s in suggestions] == [0, 1, 2]
    assert len({s["starts_at"][:10] for s in suggestions}) == 3
    for suggestion in suggestions:
        assert suggestion["interviewer_ids"] == [str(interviewer_id)]
        assert suggestion["room_id"] == str(room_id)
        assert {r["factor"] for r in suggestion["reasons"]} == {
            "time_of_day",
            "load_balance",
            "earliness",
        }
        start = datetime.fromisoformat(suggestion["starts_at"])
        assert not shanghai(3, 9) <= start < shanghai(3, 12)
    assert proposal["diagnostics"]["feasible"] >= 3
    assert proposal["request"]["room"] == {"kind": "capacity", "room_ids": [], "min_capacity": 4}
    events = await proposed_events(db)
    assert len(events) == 1
    assert events[0]["subject"] == str(application_id)
    data = events[0]["data"]
    assert data["proposal_id"] == proposal["id"]
    assert data["candidate_id"] == str(candidate_id)
    assert [datetime.fromisoformat(s["starts_at"]) for s in data["slots"]] == [
        datetime.fromisoformat(s["starts_at"]) for s in suggestions
    ]

    fetched = await service.client.get(f"/v1/proposals/{proposal['id']}", headers=auth())
    assert fetched.status_code == 200
    assert fetched.json() == proposal


async def test_when_nothing_fits_the_proposal_says_why_with_counts(
    service: Running, db: asyncpg.Connection
) -> None:
    job_id = await insert_job(db)
    interviewer_id = await insert_interviewer(db, max_per_day=1)
    # One interview already booked each day: the daily cap of 1 is reached everywhere.
    for day in range(3, 7):
        await insert_booking(
            db,
            job_id=job_id,
            start=shanghai(day, 9),
            end=shanghai(day, 10),
            interviewer_ids=[interviewer_id],
        )
    body = proposal_body(
        job_id=str(job_id), candidate_id=str(uuid.uuid4()), interviewer_ids=[str(interviewer_id)]
    )

    response = await _post(service, uuid.uuid4(), body)

    assert response.status_code == 201, response.text
    proposal = response.json()
    assert proposal["suggestions"] == []
    diagnostics = proposal["diagnostics"]
    assert diagnostics["feasible"] == 0
    assert diagnostics["refused"]["daily_cap"] > 0
    assert diagnostics["refused"]["interviewer_busy"] > 0
    assert sum(diagnostics["refused"].values()) == diagnostics["considered"]
    assert "daily cap" in diagnostics["message"]
    assert (await proposed_events(db))[0]["data"]["slots"] == []


async def test_a_pool_sends_k_of_its_members_with_the_required_interviewer(
    service: Running, db: asyncpg.Connection
) -> None:
    job_id, interviewer_id, _ = await _arrange(db)
    busy_member = await insert_interviewer(db)
    free_member = await insert_interviewer(db)
    await insert_busy_block(db, busy_member, shanghai(3, 0), shanghai(7, 0))
    pool_id = await insert_pool(db, [busy_member, free_member])
    body = proposal_body(
        job_id=str(job_id),
        candidate_id=str(uuid.uuid4()),
        interviewer_ids=[str(interviewer_id)],
        pools=[{"pool_id": str(pool_id), "k": 1}],
    )

    response = await _post(service, uuid.uuid4(), body)

    assert response.status_code == 201, response.text
    proposal = response.json()
    assert {tuple(s["interviewer_ids"]) for s in proposal["suggestions"]} == {
        (str(interviewer_id), str(free_member))
    }
    assert proposal["request"]["pools"][0]["pool_id"] == str(pool_id)


async def test_the_application_is_taken_from_its_interview_need_when_known(
    service: Running, db: asyncpg.Connection
) -> None:
    job_id, interviewer_id, _ = await _arrange(db)
    application_id, candidate_id = uuid.uuid4(), uuid.uuid4()
    await insert_need(db, application_id=application_id, job_id=job_id, candidate_id=candidate_id)

    response = await _post(
        service, application_id, proposal_body(interviewer_ids=[str(interviewer_id)])
    )

    assert response.status_code == 201, response.text
    assert response.json()["job_id"] == str(job_id)
    assert response.json()["candidate_id"] == str(candidate_id)


async def test_a_job_other_than_the_needs_is_refused(
    service: Running, db: asyncpg.Connection
) -> None:
    job_id, _, _ = await _arrange(db)
    other_job = await insert_job(db)
    application_id = uuid.uuid4()
    await insert_need(db, application_id=application_id, job_id=job_id, candidate_id=uuid.uuid4())

    response = await _post(service, application_id, proposal_body(job_id=str(other_job)))

    assert_problem(response, 422)
    assert response.json()["errors"][0]["field"] == "job_id"


async def test_an_unknown_application_needs_job_and_candidate_in_the_body(
    service: Running, db: asyncpg.Connection
) -> None:
    await insert_job(db)

    response = await _post(service, uuid.uuid4(), proposal_body())

    assert_problem(response, 422)
    assert response.json()["errors"][0]["field"] == "job_id"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"latest": "2026-03-02T00:00:00+08:00"}, "latest"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 481}, "duration_minutes"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"latest": "2026-09-01T00:00:00+08:00"}, "latest"),
        ({"step_minutes": 20}, "step_minutes"),
        ({"count": 0}, "count"),
    ],
    ids=[
        "end-before-start",
        "zero-duration",
        "over-8-hours",
        "unknown-zone",
        "over-180-days",
        "odd-step",
        "no-suggestions",
    ],
)
async def test_bad_requests_are_refused_naming_the_field(
    service: Running, db: asyncpg.Connection, change: dict[str, Any], field: str
) -> None:
    job_id = await insert_job(db)
    body = proposal_body(job_id=str(job_id), candidate_id=str(uuid.uuid4()), **change)

    response = await _post(service, uuid.uuid4(), body)

    assert_problem(response, 422)
    assert field in [e["field"].split(".")[-1] for e in response.json()["errors"]]
    assert await proposed_events(db) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"interviewer_ids": [str(uuid.uuid4())]}, "interviewer_ids.0"),
        ({"pools": [{"pool_id": str(uuid.uuid4()), "k": 1}]}, "pools.0.pool_id"),
        ({"room": {"kind": "rooms", "room_ids": [str(uuid.uuid4())]}}, "room.room_ids.0"),
    ],
    ids=["interviewer", "pool", "room"],
)
async def test_unknown_resources_are_refused_naming_the_field(
    service: Running, db: asyncpg.Connection, change: dict[str, Any], field: str
) -> None:
    job_id = await insert_job(db)
    body = proposal_body(job_id=str(job_id), candidate_id=str(uuid.uuid4()), **change)

    response = await _post(service, uuid.uuid4(), body)

    assert_problem(response, 422)
    assert response.json()["errors"][0]["field"] == field


async def test_the_same_idempotency_key_returns_the_first_proposal(
    service: Running, db: asyncpg.Connection
) -> None:
    job_id, interviewer_id, _ = await _arrange(db)
    application_id = uuid.uuid4()
    body = proposal_body(
        job_id=str(job_id), candidate_id=str(uuid.uuid4()), interviewer_ids=[str(interviewer_id)]
    )

    first = await _post(service, application_id, body, **{"Idempotency-Key": "k-1"})
    again = await _post(service, application_id, body, **{"Idempotency-Key": "k-1"})

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert len(await proposed_events(db)) == 1


# Who may call it.


async def test_without_a_token_both_routes_answer_401(
    service: Running, db: asyncpg.Connection
) -> None:
    job_id = await insert_job(db)
    body = proposal_body(job_id=str(job_id), candidate_id=str(uuid.uuid4()))

    posted = await service.client.post(f"/v1/applications/{uuid.uuid4()}/proposals", json=body)
    fetched = await service.client.get(f"/v1/proposals/{uuid.uuid4()}")

    assert_problem(posted, 401)
    assert_problem(fetched, 401)


async def test_an_interviewer_may_neither_propose_nor_read_proposals(
    service: Running, db: asyncpg.Connection
) -> None:
    job_id, _, _ = await _arrange(db)
    body = proposal_body(job_id=str(job_id), candidate_id=str(uuid.uuid4()))
    created = await _post(service, uuid.uuid4(), body)
    headers = auth("interviewer", "int-ivan")

    posted = await service.client.post(
        f"/v1/applications/{uuid.uuid4()}/proposals", json=body, headers=headers
    )
    fetched = await service.client.get(f"/v1/proposals/{created.json()['id']}", headers=headers)

    assert_problem(posted, 403)
    assert_problem(fetched, 403)


async def test_hr_who_does_not_own_the_job_sees_404_on_both_routes(
    service: Running, db: asyncpg.Connection
) -> None:
    job_id, _, _ = await _arrange(db)
    body = proposal_body(job_id=str(job_id), candidate_id=str(uuid.uuid4()))
    created = await _post(service, uuid.uuid4(), body)
    other = auth("hr", OTHER_HR)

    posted = await service.client.post(
        f"/v1/applications/{uuid.uuid4()}/proposals", json=body, headers=other
    )
    fetched = await service.client.get(f"/v1/proposals/{created.json()['id']}", headers=other)

    assert_problem(posted, 404)
    assert_problem(fetched, 404)
    assert len(await proposed_events(db)) == 1


async def test_hr_who_does_not_own_the_needs_job_sees_404(
    service: Running, db: asyncpg.Connection
) -> None:
    job_id = await insert_job(db, owner_ids=[OTHER_HR])
    application_id = uuid.uuid4()
    await insert_need(db, application_id=application_id, job_id=job_id, candidate_id=uuid.uuid4())

    response = await _post(service, application_id, proposal_body(job_id=str(job_id)))

    assert_problem(response, 404)


async def test_an_admin_may_propose_for_any_job_and_read_it(
    service: Running, db: asyncpg.Connection
) -> None:
    job_id = await insert_job(db, owner_ids=[OTHER_HR])
    body = proposal_body(job_id=str(job_id), candidate_id=str(uuid.uuid4()))
    admin = auth("admin", "admin-zoe")

    created = await service.client.post(
        f"/v1/applications/{uuid.uuid4()}/proposals", json=body, headers=admin
    )
    fetched = await service.client.get(f"/v1/proposals/{created.json()['id']}", headers=admin)

    assert created.status_code == 201, created.text
    assert fetched.status_code == 200


async def test_a_job_the_scheduler_has_not_heard_of_is_404_even_for_an_admin(
    service: Running, db: asyncpg.Connection
) -> None:
    await _arrange(db)
    body = proposal_body(job_id=str(uuid.uuid4()), candidate_id=str(uuid.uuid4()))

    response = await service.client.post(
        f"/v1/applications/{uuid.uuid4()}/proposals", json=body, headers=auth("admin", "admin-zoe")
    )

    assert_problem(response, 404)


async def test_an_unknown_proposal_is_404(service: Running) -> None:
    response = await service.client.get(f"/v1/proposals/{uuid.uuid4()}", headers=auth())

    assert_problem(response, 404)


async def test_caps_count_bookings_on_the_interviewers_local_day(
    service: Running, db: asyncpg.Connection
) -> None:
    job_id = await insert_job(db)
    interviewer_id = await insert_interviewer(db, max_per_day=1)
    # Booked Tuesday 09:00 Shanghai: no more that day, Wednesday is free.
    await insert_booking(
        db,
        job_id=job_id,
        start=shanghai(3, 9),
        end=shanghai(3, 10),
        interviewer_ids=[interviewer_id],
    )
    body = proposal_body(
        job_id=str(job_id),
        candidate_id=str(uuid.uuid4()),
        interviewer_ids=[str(interviewer_id)],
        latest="2026-03-05T00:00:00+08:00",
    )

    response = await _post(service, uuid.uuid4(), body)

    assert response.status_code == 201, response.text
    days = {
        datetime.fromisoformat(s["starts_at"]).astimezone(UTC).date()
        for s in response.json()["suggestions"]
    }
    assert days == {date(2026, 3, 4)}
