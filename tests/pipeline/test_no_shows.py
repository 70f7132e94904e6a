from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from pipeline.app import spec as pipeline_spec
from shared.clock import ManualClock
from tests.pipeline import analytics_rows as rows
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth

NOW = datetime(2025, 3, 11, 4, 0, tzinfo=UTC)
CREATED = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


@pytest.fixture
async def clocked() -> AsyncIterator[Running]:
    async with api(pipeline_spec, clock=ManualClock(NOW)) as service:
        yield service


async def _in_round_1(db: asyncpg.Connection, *, job_type: str = "core") -> uuid.UUID:
    job_id = await rows.job(db, job_type=job_type, created_at=CREATED)
    return await rows.application(
        db, job_id, created_at=CREATED, moves=[(timedelta(days=1), "advance", "round_1", "active")]
    )


def _url(application_id: uuid.UUID) -> str:
    return f"/v1/applications/{application_id}/no-shows"


async def test_no_show_is_recorded_with_the_job_types_policy_mode_and_emitted(
    clocked: Running, db: asyncpg.Connection
) -> None:
    await rows.release_policy(db, "core", "approval")
    application_id = await _in_round_1(db)

    response = await clocked.client.post(
        _url(application_id),
        json={"stage_key": "round_1", "kind": "interview"},
        headers=auth("hr", "hr-alice"),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["application_id"] == str(application_id)
    assert body["stage_key"] == "round_1"
    assert body["kind"] == "interview"
    assert body["policy_mode"] == "approval"
    assert body["recorded_by"] == "hr-alice"
    assert datetime.fromisoformat(body["occurred_at"]) == NOW
    events = await db.fetch("SELECT event_type, subject, payload FROM pipeline.outbox")
    assert [(event["event_type"], event["subject"]) for event in events] == [
        ("pipeline.no_show_recorded.v1", str(application_id))
    ]
    data = json.loads(events[0]["payload"])["data"]
    assert data["stage_key"] == "round_1"
    assert data["kind"] == "interview"
    assert set(data) == {
        "application_id",
        "job_id",
        "candidate_id",
        "stage_key",
        "kind",
        "occurred_at",
    }


async def test_no_show_without_a_release_policy_is_recorded_as_immediate(
    clocked: Running, db: asyncpg.Connection
) -> None:
    application_id = await _in_round_1(db, job_type="basic")
    occurred_at = NOW - timedelta(hours=3)

    response = await clocked.client.post(
        _url(application_id),
        json={"stage_key": "round_1", "kind": "interview", "occurred_at": occurred_at.isoformat()},
        headers=auth("admin", "admin-zoe"),
    )

    assert response.status_code == 201, response.text
    assert response.json()["policy_mode"] == "immediate"
    assert datetime.fromisoformat(response.json()["occurred_at"]) == occurred_at


async def test_second_no_show_for_the_same_stage_and_kind_is_refused_naming_the_first(
    clocked: Running, db: asyncpg.Connection
) -> None:
    application_id = await _in_round_1(db)
    body = {"stage_key": "round_1", "kind": "interview"}
    first = await clocked.client.post(
        _url(application_id), json=body, headers=auth("hr", "hr-alice")
    )

    again = await clocked.client.post(
        _url(application_id), json=body, headers=auth("hr", "hr-alice")
    )

    problem = assert_problem(again, 409, "duplicate-no-show")
    assert problem["no_show_id"] == first.json()["id"]
    assert await db.fetchval("SELECT count(*) FROM pipeline.no_shows") == 1
    assert await db.fetchval("SELECT count(*) FROM pipeline.outbox") == 1


async def test_no_shows_of_other_kinds_or_stages_are_recorded_separately(
    clocked: Running, db: asyncpg.Connection
) -> None:
    application_id = await _in_round_1(db)
    for body in (
        {"stage_key": "round_1", "kind": "interview"},
        {"stage_key": "ai_interview", "kind": "ai_interview"},
    ):
        response = await clocked.client.post(
            _url(application_id), json=body, headers=auth("hr", "hr-alice")
        )
        assert response.status_code == 201, response.text

    listed = await clocked.client.get(_url(application_id), headers=auth("hr", "hr-alice"))

    assert listed.status_code == 200
    assert sorted((n["stage_key"], n["kind"]) for n in listed.json()) == [
        ("ai_interview", "ai_interview"),
        ("round_1", "interview"),
    ]


async def test_no_show_for_a_stage_the_job_does_not_have_is_refused(
    clocked: Running, db: asyncpg.Connection
) -> None:
    application_id = await _in_round_1(db)

    response = await clocked.client.post(
        _url(application_id),
        json={"stage_key": "round_9", "kind": "interview"},
        headers=auth("hr", "hr-alice"),
    )

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == ["stage_key"]


async def test_no_show_for_a_stage_never_reached_is_refused(
    clocked: Running, db: asyncpg.Connection
) -> None:
    application_id = await _in_round_1(db)

    response = await clocked.client.post(
        _url(application_id),
        json={"stage_key": "offer", "kind": "offer"},
        headers=auth("hr", "hr-alice"),
    )

    assert_problem(response, 409, "stage-not-reached")
    assert await db.fetchval("SELECT count(*) FROM pipeline.no_shows") == 0


async def test_no_show_in_the_future_is_refused(clocked: Running, db: asyncpg.Connection) -> None:
    application_id = await _in_round_1(db)

    response = await clocked.client.post(
        _url(application_id),
        json={
            "stage_key": "round_1",
            "kind": "interview",
            "occurred_at": (NOW + timedelta(hours=1)).isoformat(),
        },
        headers=auth("hr", "hr-alice"),
    )

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == ["occurred_at"]


async def test_no_show_of_an_unknown_kind_is_refused(
    clocked: Running, db: asyncpg.Connection
) -> None:
    application_id = await _in_round_1(db)

    response = await clocked.client.post(
        _url(application_id),
        json={"stage_key": "round_1", "kind": "lunch"},
        headers=auth("hr", "hr-alice"),
    )

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == ["kind"]


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_no_shows_need_a_token(clocked: Running, db: asyncpg.Connection, method: str) -> None:
    application_id = await _in_round_1(db)

    response = await clocked.client.request(
        method, _url(application_id), json={"stage_key": "round_1", "kind": "interview"}
    )

    assert_problem(response, 401, "unauthorized")


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_interviewers_may_not_see_or_record_no_shows(
    clocked: Running, db: asyncpg.Connection, method: str
) -> None:
    application_id = await _in_round_1(db)

    response = await clocked.client.request(
        method,
        _url(application_id),
        json={"stage_key": "round_1", "kind": "interview"},
        headers=auth("interviewer", "iv-1"),
    )

    assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_hr_not_owning_the_job_does_not_see_its_applications_no_shows(
    clocked: Running, db: asyncpg.Connection, method: str
) -> None:
    application_id = await _in_round_1(db)

    response = await clocked.client.request(
        method,
        _url(application_id),
        json={"stage_key": "round_1", "kind": "interview"},
        headers=auth("hr", "hr-bob"),
    )

    assert_problem(response, 404, "not-found")
    assert await db.fetchval("SELECT count(*) FROM pipeline.no_shows") == 0
