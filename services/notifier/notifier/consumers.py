"""Events the notifier reacts to."""

from __future__ import annotations

from notifier.notifications import service
from shared.events.envelope import ReceivedEvent
from shared.events.pipeline import StageChangedV1
from shared.messaging.consumer import EventHandlers
from shared.unit import UnitOfWork

handlers = EventHandlers()


@handlers.on(StageChangedV1, name="notifier.notify_candidate_of_stage_change")
async def notify_candidate_of_stage_change(
    unit: UnitOfWork, event: ReceivedEvent[StageChangedV1]
) -> None:
    await service.record_stage_change(unit=unit, event=event)
