"""Events the talent pool's erasure domain reacts to: the services' confirmations, the
candidate's own request through the pipeline, and new applications (which arm the retention
sweep, registered on ``timer_handlers`` by importing ``retention``)."""

from __future__ import annotations

from typing import Any

from shared.events.envelope import ReceivedEvent
from shared.events.pipeline import ApplicationCreatedV1, StageChangedV1
from shared.events.talentpool import (
    CandidateErasureRequestedV1,
    NotifierErasureCompletedV1,
    PipelineErasureCompletedV1,
    SchedulerErasureCompletedV1,
)
from shared.logging import get_logger
from shared.unit import UnitOfWork
from talentpool.consumers import handlers
from talentpool.erasure import retention, service

__all__ = ["handlers"]

log = get_logger(__name__)


async def record_confirmations(unit: UnitOfWork, events: list[ReceivedEvent[Any]]) -> None:
    await service.record_confirmations(
        unit,
        [
            service.Confirmed(
                erasure_id=event.data.erasure_id,
                service=event.data.producer,
                confirmed_at=event.data.completed_at,
                erased=dict(event.data.erased),
            )
            for event in events
        ],
    )


# One name for the three types: the consumer hands a batch's confirmations to one call.
for _model in (PipelineErasureCompletedV1, SchedulerErasureCompletedV1, NotifierErasureCompletedV1):
    handlers.on_batch(_model, name="talentpool.record_erasure_confirmations")(record_confirmations)


@handlers.on_batch(CandidateErasureRequestedV1, name="talentpool.erase_on_candidate_request")
async def erase_on_candidate_request(
    unit: UnitOfWork, events: list[ReceivedEvent[CandidateErasureRequestedV1]]
) -> None:
    keyring = service.keyring_of(unit.settings)
    for event in events:
        # The pipeline vouches for the candidate: one the pool has not heard of yet (events on
        # their way, or never ingested) is given an empty, already anonymized profile.
        profile_id, known = await service.profile_for_request(
            unit.session, event.data.candidate_id, now=unit.clock.now()
        )
        erasure, created = await service.request(
            unit=unit,
            keyring=keyring,
            profile_id=profile_id,
            reason="candidate_request",
            requested_by="candidate",
        )
        log.info("erasure.candidate_request", erasure_id=str(erasure.id), new=created, known=known)


async def arm_retention(unit: UnitOfWork, events: list[ReceivedEvent[Any]]) -> None:
    await retention.arm(unit)


for _ingested in (ApplicationCreatedV1, StageChangedV1):
    handlers.on_batch(_ingested, name="talentpool.arm_retention_sweep")(arm_retention)
