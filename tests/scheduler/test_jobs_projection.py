"""The scheduler's copy of the pipeline's jobs (``pipeline.job_changed``), and the access
helpers that scope HR to the jobs they own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from aio_pika.abc import AbstractRobustConnection

from pipeline.app import spec as pipeline_spec
from scheduler.jobs.dependencies import can_see_job, require_visible_job, visible_job_ids
from scheduler.jobs.models import Job
from shared.auth.principal import Principal, Role
from shared.events.envelope import CloudEvent
from shared.events.pipeline import JobChangedV1
from shared.problems import Problem
from tests.pipeline.factories import create_job
from tests.pipeline.stage_changed_events import deliver
from tests.scheduler.resources_support import HR, OTHER_HR, insert_job
from tests.support.running import Running, running, wait_for

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def job_changed(
    job_id: uuid.UUID,
    *,
    owner_ids: list[str],
    occurred_at: datetime,
    sequence: int,
    status: str = "open",
    title: str = "Backend engineer",
) -> CloudEvent:
    data = JobChangedV1(
        job_id=job_id,
        title=title,
        job_type="basic",
        status=status,
        owner_ids=owner_ids,
        occurred_at=occurred_at,
    )
    return CloudEvent(
        id=uuid.uuid4(),
        source="/pipeline",
        type=JobChangedV1.event_type,
        time=occurred_at,
        subject=str(job_id),
        data=data.model_dump(mode="json"),
        sequence=sequence,
    )


async def stored(db: asyncpg.Connection, job_id: uuid.UUID, **expected: Any) -> dict[str, Any]:
    async def matches() -> dict[str, Any] | None:
        row = await db.fetchrow("SELECT * FROM scheduler.jobs WHERE id = $1", job_id)
        if row is None or any(row[k] != v for k, v in expected.items()):
            return None
        return dict(row)

    found: dict[str, Any] = await wait_for(matches, what=f"job {job_id} with {expected}")
    return found


async def test_a_job_the_pipeline_creates_reaches_the_scheduler_with_its_owners(
    scheduler: Running, db: asyncpg.Connection
) -> None:
    async with running(pipeline_spec) as pipeline:
        job = await create_job(pipeline.client, hr=HR, owner_ids=[OTHER_HR])

        row = await stored(db, uuid.UUID(job["id"]))

    assert row["title"] == "Backend engineer"
    assert row["status"] == "open"
    assert row["owner_ids"] == [HR, OTHER_HR]


async def test_a_newer_change_replaces_owners_title_and_status(
    scheduler: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    job_id = uuid.uuid4()
    await deliver(amqp, job_changed(job_id, owner_ids=[HR], occurred_at=MONDAY, sequence=1))
    await stored(db, job_id, owner_ids=[HR])

    later = MONDAY + timedelta(hours=1)
    await deliver(
        amqp,
        job_changed(
            job_id,
            owner_ids=[OTHER_HR],
            occurred_at=later,
            sequence=2,
            status="closed",
            title="Staff engineer",
        ),
    )

    row = await stored(db, job_id, owner_ids=[OTHER_HR])
    assert (row["status"], row["title"], row["changed_at"]) == ("closed", "Staff engineer", later)


async def test_an_older_change_arriving_late_is_ignored(
    scheduler: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    job_id = uuid.uuid4()
    marker = uuid.uuid4()
    await deliver(amqp, job_changed(job_id, owner_ids=[OTHER_HR], occurred_at=MONDAY, sequence=2))
    await stored(db, job_id, owner_ids=[OTHER_HR])

    await deliver(
        amqp,
        job_changed(job_id, owner_ids=[HR], occurred_at=MONDAY - timedelta(hours=1), sequence=1),
    )
    # A later event about another job, on the same queue: once it is stored, the stale one
    # before it has been handled too.
    await deliver(amqp, job_changed(marker, owner_ids=[HR], occurred_at=MONDAY, sequence=1))
    await stored(db, marker)

    row = await stored(db, job_id)
    assert row["owner_ids"] == [OTHER_HR]
    assert row["changed_at"] == MONDAY


# Access helpers.

ADMIN = Principal(subject="admin-zoe", role=Role.ADMIN)
OWNER = Principal(subject=HR, role=Role.HR)
STRANGER = Principal(subject="hr-carol", role=Role.HR)
INTERVIEWER = Principal(subject="int-ivan", role=Role.INTERVIEWER)


async def visible(service: Running, principal: Principal) -> set[uuid.UUID]:
    async with service.runtime.db.sessionmaker() as session:
        rows = await session.execute(sa.select(Job.id).where(visible_job_ids(principal, Job.id)))
        return set(rows.scalars())


async def test_hr_see_only_jobs_they_own_admins_all_interviewers_none(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    mine = await insert_job(db, owner_ids=[HR, OTHER_HR])
    theirs = await insert_job(db, owner_ids=[OTHER_HR])

    assert await visible(scheduler_http, OWNER) == {mine}
    assert await visible(scheduler_http, ADMIN) == {mine, theirs}
    assert await visible(scheduler_http, STRANGER) == set()
    assert await visible(scheduler_http, INTERVIEWER) == set()


async def test_require_visible_job_hides_jobs_of_others_and_unknown_jobs_as_not_found(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    mine = await insert_job(db, owner_ids=[HR])

    async with scheduler_http.runtime.db.sessionmaker() as session:
        assert (await require_visible_job(session, OWNER, mine)).id == mine
        assert (await require_visible_job(session, ADMIN, mine)).id == mine
        assert await can_see_job(session, OWNER, mine)
        assert not await can_see_job(session, STRANGER, mine)
        for principal, job_id in [
            (STRANGER, mine),
            (INTERVIEWER, mine),
            (ADMIN, uuid.uuid4()),
        ]:
            with pytest.raises(Problem) as refused:
                await require_visible_job(session, principal, job_id)
            assert refused.value.status == 404
