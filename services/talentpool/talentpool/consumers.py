"""Events the talent pool reacts to."""

from __future__ import annotations

from shared.events.envelope import ReceivedEvent
from shared.events.pipeline import StageChangedV1
from shared.messaging.consumer import EventHandlers
from shared.unit import UnitOfWork
from talentpool.candidates import service

handlers = EventHandlers()


@handlers.on(StageChangedV1, name="talentpool.append_stage_change_to_timeline")
async def append_stage_change_to_timeline(
    unit: UnitOfWork, event: ReceivedEvent[StageChangedV1]
) -> None:
    await service.record_stage_change(unit=unit, event=event)
