"""Events the talent pool's profiles domain reacts to: every event that says something about a
person, a job or an application, handled by one batch handler (``profiles.ingestion``).

Registered under one name for all these types, so the consumer hands a batch's events of all of
them to one call (batch handlers are grouped by name): a few statements per batch, whatever its
mix. ``scheduler.interviewer_declined`` is not consumed: it is about an interviewer, not the
candidate (the interview stays booked or is re-staffed; a cancellation has its own event).
"""

from __future__ import annotations

from typing import Any

import talentpool.profiles.timers  # noqa: F401 - registers the engagement refresh
from shared.events.envelope import EventData, ReceivedEvent
from shared.events.pipeline import CandidateChangedV1, JobChangedV1
from shared.unit import UnitOfWork
from talentpool.consumers import handlers
from talentpool.profiles import service
from talentpool.profiles.ingestion import ingest
from talentpool.timeline.facts import MAPPERS

INGEST = "talentpool.profiles.ingest"
INGESTED: tuple[type[EventData], ...] = (*MAPPERS, JobChangedV1)


async def ingest_batch(unit: UnitOfWork, events: list[ReceivedEvent[Any]]) -> None:
    await ingest(unit, events)


@handlers.on(CandidateChangedV1, name="talentpool.profiles.read_contacts_again")
async def read_contacts_again(unit: UnitOfWork, event: ReceivedEvent[CandidateChangedV1]) -> None:
    """Staff corrected the candidate's contact in the pipeline: the matcher reads it again."""
    await service.read_contacts_again(unit.session, candidate_id=event.data.candidate_id)


for _model in INGESTED:
    handlers.on_batch(_model, name=INGEST)(ingest_batch)

__all__ = ["INGEST", "INGESTED", "handlers", "ingest_batch", "read_contacts_again"]
