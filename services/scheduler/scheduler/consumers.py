"""Events the scheduler reacts to."""

from __future__ import annotations

from scheduler.interview_needs import service
from shared.events.envelope import ReceivedEvent
from shared.events.pipeline import StageChangedV1
from shared.messaging.consumer import EventHandlers
from shared.unit import UnitOfWork

handlers = EventHandlers()


@handlers.on(StageChangedV1, name="scheduler.track_interview_need")
async def track_interview_need(unit: UnitOfWork, event: ReceivedEvent[StageChangedV1]) -> None:
    await service.apply_stage_change(unit=unit, event=event)
