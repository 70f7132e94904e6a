"""Events the notifier reacts to: the jobs projection, and every event that owes someone a
notification (``dispatch/events.py`` says which)."""

from __future__ import annotations

from typing import Any

from notifier.dispatch import planner
from notifier.dispatch.context import keyring_of, settings_of
from notifier.dispatch.events import EVENT_TYPES, owed_for
from notifier.jobs import service as jobs
from shared.events.envelope import ReceivedEvent
from shared.events.pipeline import JobChangedV1
from shared.messaging.consumer import EventHandlers
from shared.unit import UnitOfWork

handlers = EventHandlers()


@handlers.on(JobChangedV1, name="notifier.track_job")
async def track_job(unit: UnitOfWork, event: ReceivedEvent[JobChangedV1]) -> None:
    await jobs.apply_job_changed(unit=unit, event=event)


async def notify(unit: UnitOfWork, events: list[ReceivedEvent[Any]]) -> None:
    """Owe the notifications a batch of events calls for (nothing twice for one event)."""
    settings = settings_of(unit)
    await planner.owe_many(
        unit,
        [
            planner.EventOwes(
                event.envelope.id,
                event.envelope.type,
                owed_for(event.data, portal_url=settings.portal_url),
            )
            for event in events
        ],
        settings=settings,
        keyring=keyring_of(settings),
    )


for _model in EVENT_TYPES:
    # One stable handler name per event type (the inbox key), e.g. notifier.notify_stage_changed.
    _name = "notifier.notify_" + _model.event_type.split(".")[1]
    handlers.on_batch(_model, name=_name)(notify)
