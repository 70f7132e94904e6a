"""Events the scheduler reacts to."""

from __future__ import annotations

from scheduler.interview_needs import service
from scheduler.jobs import service as jobs_service
from shared.events.envelope import ReceivedEvent
from shared.events.pipeline import JobChangedV1, StageChangedV1
from shared.messaging.consumer import EventHandlers
from shared.unit import UnitOfWork

handlers = EventHandlers()


@handlers.on(StageChangedV1, name="scheduler.track_interview_need")
async def track_interview_need(unit: UnitOfWork, event: ReceivedEvent[StageChangedV1]) -> None:
    await service.apply_stage_change(unit=unit, event=event)


@handlers.on(JobChangedV1, name="scheduler.track_job")
async def track_job(unit: UnitOfWork, event: ReceivedEvent[JobChangedV1]) -> None:
    await jobs_service.apply_job_changed(unit=unit, event=event)
