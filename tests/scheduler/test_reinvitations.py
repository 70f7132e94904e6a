"""The talent pool's re-invitations of the no-show group in the scheduler, through the real
broker: a new AI-interview invitation on the application once its last one lapsed (closed at
its deadline, or in its make-up window); nothing while it waits, after it was done or cancelled,
or once the application moved on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from aio_pika.abc import AbstractRobustConnection

from shared.events.envelope import CloudEvent
from shared.events.pipeline import ApplicationCreatedV1
from shared.events.talentpool import ReinvitationRequestedV1
from tests.pipeline.stage_changed_events import AI_INTERVIEW, ROUND_1, AnApplication, deliver
from tests.scheduler.invitations_support import ADMIN, events, pending_timers
from tests.support.running import Running, wait_for

# The default policy: 72 hours to take the AI interview, then a 24-hour make-up window. The
# running scheduler's timers use the real clock, so an application that entered its AI stage
# long enough ago has its invitation expired (or closed) by them within moments.
DEADLINE = timedelta(hours=72)
MAKEUP = timedelta(hours=24)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def _created(
    amqp: AbstractRobustConnection, application: AnApplication, entered: datetime
) -> None:
    data = ApplicationCreatedV1(
        application_id=application.id,
        job_id=application.job_id,
        candidate_id=application.candidate_id,
        stage=AI_INTERVIEW,
        source="api",
        locale="zh-CN",
        occurred_at=entered,
    )
    await deliver(
        amqp,
        CloudEvent(
            id=uuid.uuid4(),
            source="/pipeline",
            type=data.event_type,
            time=entered,
            subject=str(application.id),
            data=data.model_dump(mode="json"),
            sequence=1,
        ),
    )


async def _reinvite(
    amqp: AbstractRobustConnection, application: AnApplication, *, with_application: bool = True
) -> None:
    now = _now()
    data = ReinvitationRequestedV1(
        reinvitation_id=uuid.uuid4(),
        profile_id=uuid.uuid4(),
        candidate_id=application.candidate_id,
        job_id=application.job_id,
        application_id=application.id if with_application else None,
        origin="no_show_group",
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
            subject=str(data.reinvitation_id),
            data=data.model_dump(mode="json"),
            sequence=1,
        ),
    )


async def _invitations(
    client: httpx.AsyncClient, application: AnApplication
) -> list[dict[str, Any]]:
    response = await client.get("/v1/invitations?kind=ai_interview&limit=200", headers=ADMIN)
    assert response.status_code == 200, response.text
    items = [i for i in response.json()["items"] if i["application_id"] == str(application.id)]
    return sorted(items, key=lambda item: item["created_at"])


async def _states(
    client: httpx.AsyncClient, application: AnApplication, *states: str
) -> list[dict[str, Any]]:
    """Wait until the application's AI invitations, oldest first, are in ``states``."""

    async def reached() -> list[dict[str, Any]] | None:
        items = await _invitations(client, application)
        return items if [i["state"] for i in items] == list(states) else None

    found: list[dict[str, Any]] = await wait_for(reached, what=f"invitations {states}")
    return found


async def test_a_reinvitation_after_the_invitation_closed_opens_a_new_one(
    scheduler: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    application = AnApplication()
    await _created(amqp, application, _now() - DEADLINE - MAKEUP - timedelta(hours=1))
    [closed] = await _states(scheduler.client, application, "closed")

    before = _now()
    await _reinvite(amqp, application)

    old, new = await _states(scheduler.client, application, "closed", "sent")
    assert old["id"] == closed["id"]
    assert new["created_by"] == "talentpool"
    assert new["candidate_id"] == str(application.candidate_id)
    assert new["job_id"] == str(application.job_id)
    assert datetime.fromisoformat(new["sent_at"]) >= before
    assert datetime.fromisoformat(new["deadline_at"]) >= before + DEADLINE
    assert "deadline" in await pending_timers(db, new["id"])
    [sent] = await events(db, "invitation_sent", subject=new["id"])
    assert sent["kind"] == "ai_interview"
    assert sent["application_id"] == str(application.id)


async def test_a_reinvitation_in_the_make_up_window_closes_it_and_opens_a_new_one(
    scheduler: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    application = AnApplication()
    await _created(amqp, application, _now() - DEADLINE - MAKEUP / 2)
    [expired] = await _states(scheduler.client, application, "expired")
    assert "makeup_end" in await pending_timers(db, expired["id"])

    await _reinvite(amqp, application)

    old, new = await _states(scheduler.client, application, "closed", "sent")
    assert old["id"] == expired["id"]
    assert old["closed_at"] is not None
    assert await pending_timers(db, old["id"]) == {}
    assert new["created_by"] == "talentpool"


async def test_nothing_happens_while_it_waits_when_the_application_moved_on_or_is_unknown(
    scheduler: Running, amqp: AbstractRobustConnection
) -> None:
    waiting, moved_on, marker = AnApplication(), AnApplication(), AnApplication()
    await _created(amqp, waiting, _now())
    long_ago = _now() - DEADLINE - MAKEUP - timedelta(hours=1)
    await _created(amqp, moved_on, long_ago)
    await _created(amqp, marker, long_ago)
    await _states(scheduler.client, waiting, "sent")
    await _states(scheduler.client, moved_on, "closed")
    await _states(scheduler.client, marker, "closed")
    await deliver(amqp, moved_on.moved(sequence=2, to_stage=ROUND_1, from_stage=AI_INTERVIEW))

    await _reinvite(amqp, waiting)
    await _reinvite(amqp, moved_on)
    await _reinvite(amqp, AnApplication())
    await _reinvite(amqp, moved_on, with_application=False)  # the pipeline's to handle
    # Handled after the ones above: once it shows, they have been handled too.
    await _reinvite(amqp, marker)
    await _states(scheduler.client, marker, "closed", "sent")

    assert [i["state"] for i in await _invitations(scheduler.client, waiting)] == ["sent"]
    assert [i["state"] for i in await _invitations(scheduler.client, moved_on)] == ["closed"]


async def test_a_second_reinvitation_while_the_new_invitation_waits_adds_nothing(
    scheduler: Running, amqp: AbstractRobustConnection
) -> None:
    application, marker = AnApplication(), AnApplication()
    long_ago = _now() - DEADLINE - MAKEUP - timedelta(hours=1)
    await _created(amqp, application, long_ago)
    await _created(amqp, marker, long_ago)
    await _states(scheduler.client, application, "closed")
    await _states(scheduler.client, marker, "closed")

    await _reinvite(amqp, application)
    await _reinvite(amqp, application)
    await _reinvite(amqp, marker)

    await _states(scheduler.client, marker, "closed", "sent")
    await _states(scheduler.client, application, "closed", "sent")
