"""The talent pool's re-invitations in the pipeline: a known candidate invited to a job gets a
new application in its first stage (source ``talentpool``); nothing happens when they already
applied, the job is closed or unknown, or the re-invitation names an application (the
scheduler's)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection
from prometheus_client import REGISTRY

from pipeline.app import spec as pipeline_spec
from shared.events.envelope import CloudEvent
from shared.events.pipeline import ApplicationCreatedV1
from shared.events.talentpool import ReinvitationRequestedV1
from tests.pipeline.factories import apply, create_job
from tests.pipeline.stage_changed_events import deliver
from tests.support.running import Running, running, wait_for
from tests.support.tokens import auth

ADMIN = auth("admin", "admin-1")


@pytest.fixture
async def service() -> AsyncIterator[Running]:
    """The pipeline consuming from its queue (its relay off, so its outbox can be read)."""
    async with running(pipeline_spec, run_relay=False) as running_service:
        yield running_service


async def _reinvite(
    amqp: AbstractRobustConnection,
    *,
    candidate_id: uuid.UUID,
    job_id: uuid.UUID,
    application_id: uuid.UUID | None = None,
) -> uuid.UUID:
    reinvitation_id = uuid.uuid4()
    now = datetime.now(UTC)
    data = ReinvitationRequestedV1(
        reinvitation_id=reinvitation_id,
        profile_id=uuid.uuid4(),
        candidate_id=candidate_id,
        job_id=job_id,
        application_id=application_id,
        origin="recommendation",
        requested_by="hr-alice",
        requested_at=now,
    )
    await deliver(
        amqp,
        CloudEvent(
            id=uuid.uuid4(),
            source="/talentpool",
            type=data.event_type,
            time=now,
            subject=str(reinvitation_id),
            data=data.model_dump(mode="json"),
            sequence=1,
        ),
    )
    return reinvitation_id


async def _applications(service: Running, job_id: uuid.UUID | str) -> list[dict[str, Any]]:
    response = await service.client.get(
        "/v1/applications", params={"job_id": str(job_id)}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _handled() -> float:
    """Re-invitations this process's pipeline consumer acknowledged as handled."""
    value = REGISTRY.get_sample_value(
        "events_consumed_total",
        {"service": "pipeline", "type": ReinvitationRequestedV1.event_type, "outcome": "handled"},
    )
    return value or 0.0


async def _created_events(db: asyncpg.Connection, job_id: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT payload FROM pipeline.outbox WHERE event_type = $1",
        ApplicationCreatedV1.event_type,
    )
    payloads = [CloudEvent.model_validate_json(row["payload"]) for row in rows]
    return [p.data for p in payloads if p.data["job_id"] == job_id]


async def test_a_reinvited_candidate_gets_a_new_application_in_the_jobs_first_stage(
    service: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    earlier = await create_job(service.client)
    urgent = await create_job(service.client, title="Urgent opening")
    candidate_id = uuid.UUID((await apply(service.client, earlier["id"]))["candidate_id"])

    await _reinvite(amqp, candidate_id=candidate_id, job_id=uuid.UUID(urgent["id"]))

    async def created() -> list[dict[str, Any]]:
        return await _applications(service, urgent["id"])

    [application] = await wait_for(created, what="the new application")
    assert application["candidate_id"] == str(candidate_id)
    assert application["stage_key"] == urgent["stages"][0]["key"]
    assert application["status"] == "active"
    source = await db.fetchval(
        "SELECT source FROM pipeline.applications WHERE id = $1", uuid.UUID(application["id"])
    )
    assert source == "talentpool"
    [event] = await _created_events(db, urgent["id"])
    assert event["application_id"] == application["id"]
    assert event["source"] == "talentpool"
    assert event["stage"] == {"key": "ai_interview", "kind": "ai_interview"}


async def test_nothing_happens_when_the_candidate_already_applied_or_the_job_is_closed_or_unknown(
    service: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    applied_to = await create_job(service.client)
    closed = await create_job(service.client, title="Filled")
    marker_job = await create_job(service.client, title="Marker")
    candidate_id = uuid.UUID((await apply(service.client, applied_to["id"]))["candidate_id"])
    response = await service.client.patch(
        f"/v1/jobs/{closed['id']}", json={"status": "closed"}, headers=auth("hr", "hr-alice")
    )
    assert response.status_code == 200, response.text
    before = _handled()

    await _reinvite(amqp, candidate_id=candidate_id, job_id=uuid.UUID(applied_to["id"]))
    await _reinvite(amqp, candidate_id=candidate_id, job_id=uuid.UUID(closed["id"]))
    await _reinvite(amqp, candidate_id=candidate_id, job_id=uuid.uuid4())
    await _reinvite(amqp, candidate_id=uuid.uuid4(), job_id=uuid.UUID(marker_job["id"]))
    # Handled after the ones above: once its application exists, they have been handled too.
    await _reinvite(amqp, candidate_id=candidate_id, job_id=uuid.UUID(marker_job["id"]))

    async def marker() -> list[dict[str, Any]]:
        return await _applications(service, marker_job["id"])

    [application] = await wait_for(marker, what="the marker's application")
    assert application["candidate_id"] == str(candidate_id)
    assert len(await _applications(service, applied_to["id"])) == 1
    assert await _applications(service, closed["id"]) == []
    assert len(await _created_events(db, applied_to["id"])) == 1

    # Each was handled (acknowledged after its transaction), none failed into a retry.
    async def all_handled() -> bool:
        return _handled() >= before + 5

    await wait_for(all_handled, what="five reinvitations handled")


async def test_a_reinvitation_on_an_existing_application_is_left_to_the_scheduler(
    service: Running, amqp: AbstractRobustConnection
) -> None:
    urgent = await create_job(service.client)
    marker_job = await create_job(service.client, title="Marker")
    candidate_id = uuid.UUID((await apply(service.client, marker_job["id"]))["candidate_id"])
    other = uuid.UUID(
        (await apply(service.client, marker_job["id"], email="han.meimei@example.com"))[
            "candidate_id"
        ]
    )

    await _reinvite(
        amqp, candidate_id=candidate_id, job_id=uuid.UUID(urgent["id"]), application_id=uuid.uuid4()
    )
    await _reinvite(amqp, candidate_id=other, job_id=uuid.UUID(urgent["id"]))

    async def marker() -> list[dict[str, Any]]:
        return await _applications(service, urgent["id"])

    [application] = await wait_for(marker, what="the marker's application")
    assert application["candidate_id"] == str(other)
