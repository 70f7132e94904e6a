"""A candidate asks for a person to review an AI-based decision, once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, timedelta

import asyncpg
import pytest

from pipeline.app import spec as pipeline_spec
from shared.clock import ManualClock
from tests.pipeline.portal_support import (
    FRIDAY_EVENING,
    HR,
    OTHER_HR,
    bearer,
    issue_link,
    make_application,
    outbox,
)
from tests.support.problems import assert_problem
from tests.support.running import Running, api

HUMAN_REVIEW_REQUESTED = "pipeline.human_review_requested.v1"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(FRIDAY_EVENING.astimezone(UTC))


@pytest.fixture
async def portal(clock: ManualClock) -> AsyncIterator[Running]:
    async with api(pipeline_spec, clock=clock) as service:
        yield service


async def test_asking_for_a_human_review_records_it_and_tells_the_jobs_owners(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    arranged = await make_application(db, owners=(HR, OTHER_HR))
    issued = await issue_link(portal.client, arranged.application_id)

    response = await portal.client.post("/v1/portal/human-review", headers=bearer(issued["token"]))

    assert response.status_code == 201, response.text
    requested_at = clock.now()
    assert response.json() == {"requested_at": requested_at.isoformat().replace("+00:00", "Z")}
    row = await db.fetchrow(
        "SELECT human_review_requested_at, version FROM pipeline.applications WHERE id = $1",
        arranged.application_id,
    )
    assert row["human_review_requested_at"] == requested_at
    assert row["version"] == 2
    [event] = await outbox(db, HUMAN_REVIEW_REQUESTED)
    assert event["subject"] == str(arranged.application_id)
    assert event["sequence"] == 2
    assert event["data"] == {
        "application_id": str(arranged.application_id),
        "job_id": str(arranged.job_id),
        "candidate_id": str(arranged.candidate_id),
        "owner_ids": [HR, OTHER_HR],
        "requested_at": requested_at.isoformat().replace("+00:00", "Z"),
    }
    view = await portal.client.get("/v1/portal/application", headers=bearer(issued["token"]))
    assert view.json()["human_review_requested_at"] == response.json()["requested_at"]


async def test_asking_twice_is_a_conflict_and_tells_nobody_again(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)
    first = await portal.client.post("/v1/portal/human-review", headers=bearer(issued["token"]))
    clock.advance(timedelta(hours=1))

    second = await portal.client.post("/v1/portal/human-review", headers=bearer(issued["token"]))

    assert first.status_code == 201
    problem = assert_problem(second, 409, "human-review-already-requested")
    assert problem["requested_at"] == (clock.now() - timedelta(hours=1)).isoformat()
    assert len(await outbox(db, HUMAN_REVIEW_REQUESTED)) == 1


async def test_a_new_link_does_not_allow_asking_again(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)
    first_link = await issue_link(portal.client, arranged.application_id)
    await portal.client.post("/v1/portal/human-review", headers=bearer(first_link["token"]))
    second_link = await issue_link(portal.client, arranged.application_id)

    again = await portal.client.post(
        "/v1/portal/human-review", headers=bearer(second_link["token"])
    )

    assert_problem(again, 409, "human-review-already-requested")


async def test_one_candidates_request_leaves_other_applications_alone(
    portal: Running, db: asyncpg.Connection
) -> None:
    mine = await make_application(db)
    other = await make_application(db)
    issued = await issue_link(portal.client, mine.application_id)

    await portal.client.post("/v1/portal/human-review", headers=bearer(issued["token"]))

    untouched = await db.fetchval(
        "SELECT human_review_requested_at FROM pipeline.applications WHERE id = $1",
        other.application_id,
    )
    assert untouched is None
