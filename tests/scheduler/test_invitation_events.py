"""AI-interview invitations from the pipeline's events, through the real broker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from aio_pika.abc import AbstractRobustConnection

from pipeline.app import spec as pipeline_spec
from scheduler.app import spec as scheduler_spec
from shared.events.envelope import CloudEvent
from shared.events.pipeline import AiInterviewCompletedV1, ApplicationCreatedV1, StageRef
from tests.pipeline.stage_changed_events import (
    AI_INTERVIEW,
    ROUND_1,
    AnApplication,
    deliver,
)
from tests.scheduler.invitations_support import ADMIN, events, pending_timers
from tests.support.running import Running, running, wait_for
from tests.support.tokens import auth

SCREENING = StageRef(key="screening", kind="screening")
# The running scheduler's timers use the real clock: deadlines must lie ahead of it.
ENTERED = datetime.now(UTC).replace(microsecond=0)


async def _ai_invitation(
    client: httpx.AsyncClient, application_id: uuid.UUID, state: str
) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        response = await client.get("/v1/invitations?kind=ai_interview", headers=ADMIN)
        for item in response.json()["items"]:
            if item["application_id"] == str(application_id) and item["state"] == state:
                return dict(item)
        return None

    invitation: dict[str, Any] = await wait_for(found, what=f"an ai invitation {state}")
    return invitation


def _completed(application: AnApplication) -> CloudEvent:
    data = AiInterviewCompletedV1(
        application_id=application.id,
        job_id=application.job_id,
        candidate_id=application.candidate_id,
        vendor="acme",
        interview_id=uuid.uuid4(),
        occurred_at=ENTERED + timedelta(hours=5),
    )
    return CloudEvent(
        id=uuid.uuid4(),
        source="/pipeline",
        type=AiInterviewCompletedV1.event_type,
        time=data.occurred_at,
        subject=str(application.id),
        data=data.model_dump(mode="json"),
    )


async def test_entering_an_ai_interview_stage_invites_and_completion_ends_it(
    scheduler: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    application = AnApplication()
    await deliver(
        amqp,
        application.moved(
            sequence=2, to_stage=AI_INTERVIEW, from_stage=SCREENING, occurred_at=ENTERED
        ),
    )
    invitation = await _ai_invitation(scheduler.client, application.id, "sent")
    assert invitation["candidate_group"] == "default"
    assert datetime.fromisoformat(invitation["deadline_at"]) == ENTERED + timedelta(hours=72)
    assert set(await pending_timers(db, invitation["id"])) == {
        "deadline",
        "reminder:unopened_24h",
        "reminder:deadline_6h",
    }
    (sent,) = await events(db, "invitation_sent", subject=invitation["id"])
    assert sent["kind"] == "ai_interview"

    await deliver(amqp, _completed(application))
    done = await _ai_invitation(scheduler.client, application.id, "completed")
    assert done["id"] == invitation["id"]
    assert await pending_timers(db, invitation["id"]) == {}


async def test_leaving_the_stage_cancels_and_a_stale_entry_does_not_reopen(
    scheduler: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    application = AnApplication()
    await deliver(amqp, application.moved(sequence=2, to_stage=AI_INTERVIEW, from_stage=SCREENING))
    invitation = await _ai_invitation(scheduler.client, application.id, "sent")
    await deliver(amqp, application.moved(sequence=3, to_stage=ROUND_1))
    await _ai_invitation(scheduler.client, application.id, "cancelled")
    assert await pending_timers(db, invitation["id"]) == {}
    # A redelivered older entry (another event id) is stale and invites nobody again.
    stale = application.moved(sequence=2, to_stage=AI_INTERVIEW, from_stage=SCREENING)
    await deliver(amqp, stale)
    marker = AnApplication()
    await deliver(amqp, marker.moved(sequence=2, to_stage=AI_INTERVIEW, from_stage=SCREENING))
    await _ai_invitation(scheduler.client, marker.id, "sent")
    count = await db.fetchval(
        "SELECT count(*) FROM scheduler.invitations WHERE application_id = $1", application.id
    )
    assert count == 1


def _created(application: AnApplication, stage: StageRef) -> CloudEvent:
    data = ApplicationCreatedV1(
        application_id=application.id,
        job_id=application.job_id,
        candidate_id=application.candidate_id,
        stage=stage,
        source="api",
        locale="zh-CN",
        occurred_at=ENTERED,
    )
    return CloudEvent(
        id=uuid.uuid4(),
        source="/pipeline",
        type=ApplicationCreatedV1.event_type,
        time=data.occurred_at,
        subject=str(application.id),
        data=data.model_dump(mode="json"),
        sequence=1,
    )


async def test_an_application_starting_in_an_ai_interview_stage_is_invited(
    scheduler: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    application = AnApplication()
    other = AnApplication()

    await deliver(amqp, _created(application, AI_INTERVIEW))
    await deliver(amqp, _created(other, SCREENING))

    invitation = await _ai_invitation(scheduler.client, application.id, "sent")
    assert datetime.fromisoformat(invitation["deadline_at"]) == ENTERED + timedelta(hours=72)
    assert "deadline" in await pending_timers(db, invitation["id"])
    # Redelivered (another event id): still one invitation; a first stage of another kind: none.
    await deliver(amqp, _created(application, AI_INTERVIEW))
    await deliver(amqp, _completed(application))
    await _ai_invitation(scheduler.client, application.id, "completed")
    counts = await db.fetch(
        """SELECT application_id, count(*) AS n FROM scheduler.invitations
           WHERE application_id = ANY($1::uuid[]) GROUP BY application_id""",
        [application.id, other.id],
    )
    assert {row["application_id"]: row["n"] for row in counts} == {application.id: 1}


async def test_a_completion_handled_after_the_move_on_still_records_the_interview_as_done(
    scheduler: Running, amqp: AbstractRobustConnection
) -> None:
    # The vendor's completion and the move out of the stage can be handled in either order.
    application = AnApplication()
    await deliver(amqp, application.moved(sequence=2, to_stage=AI_INTERVIEW, from_stage=SCREENING))
    invitation = await _ai_invitation(scheduler.client, application.id, "sent")
    await deliver(amqp, application.moved(sequence=3, to_stage=ROUND_1))
    await _ai_invitation(scheduler.client, application.id, "cancelled")

    await deliver(amqp, _completed(application))

    done = await _ai_invitation(scheduler.client, application.id, "completed")
    assert done["id"] == invitation["id"]


async def test_a_rejection_cancels_the_waiting_invitation(
    scheduler: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()
    await deliver(amqp, application.moved(sequence=2, to_stage=AI_INTERVIEW, from_stage=SCREENING))
    await _ai_invitation(scheduler.client, application.id, "sent")
    rejected = application.moved(
        sequence=3, to_stage=AI_INTERVIEW, from_stage=AI_INTERVIEW, transition="reject"
    )
    data = dict(rejected.data)
    data["status"] = "rejected"
    await deliver(amqp, rejected.model_copy(update={"data": data}))
    await _ai_invitation(scheduler.client, application.id, "cancelled")


async def test_the_pipelines_stage_change_reaches_the_scheduler_as_an_ai_invitation() -> None:
    """Both services in this process, each with its own relay and consumer: the pipeline's
    API moves an application into its AI-interview stage, the event crosses RabbitMQ."""
    hr = auth("hr", "hr-e2e")
    stages = [
        {
            "key": "screening",
            "kind": "screening",
            "name_zh": "筛选",
            "name_en": "Screening",
            "sla_days": 2,
        },
        {
            "key": "ai_interview",
            "kind": "ai_interview",
            "name_zh": "AI面试",
            "name_en": "AI interview",
            "sla_days": 2,
        },
        {
            "key": "round_2",
            "kind": "interview",
            "name_zh": "二面",
            "name_en": "Second round",
            "sla_days": 3,
        },
    ]
    async with running(pipeline_spec) as pipeline, running(scheduler_spec) as scheduler:
        job = await pipeline.client.post(
            "/v1/jobs", json={"title": "Backend engineer", "stages": stages}, headers=hr
        )
        assert job.status_code == 201, job.text
        created = await pipeline.client.post(
            f"/v1/jobs/{job.json()['id']}/applications",
            json={"candidate": {"full_name": "Han Meimei", "email": "han@example.com"}},
            headers=hr,
        )
        assert created.status_code == 201, created.text
        application = created.json()
        moved = await pipeline.client.post(
            f"/v1/applications/{application['id']}/transitions",
            json={"transition": "move", "to_stage": "ai_interview", "reason": "test"},
            headers={**hr, "If-Match": f'"{application["version"]}"'},
        )
        assert moved.status_code == 200, moved.text
        invitation = await _ai_invitation(scheduler.client, uuid.UUID(application["id"]), "sent")
        assert invitation["job_id"] == job.json()["id"]

        # The job's owner sees it once the scheduler has the job (job_changed, either order).
        async def owner_sees() -> bool:
            response = await scheduler.client.get(
                f"/v1/invitations?job_id={job.json()['id']}", headers=hr
            )
            return response.status_code == 200 and len(response.json()["items"]) == 1

        await wait_for(owner_sees, what="the job's owner to see the invitation")
