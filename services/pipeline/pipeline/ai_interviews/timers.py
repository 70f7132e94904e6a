"""After commit: each accepted vendor delivery is applied to its interview by a durable timer
(``ai_interview.delivery``, due at once), so the webhook answers after one statement."""

from __future__ import annotations

from pipeline.ai_interviews import service
from pipeline.ai_interviews.schemas import AiInterviewDelivery
from pipeline.timers import timer_handlers
from shared.logging import get_logger
from shared.timers import DueTimer
from shared.unit import UnitOfWork

log = get_logger(__name__)


@timer_handlers.on_batch(service.DELIVERY_TIMER)
async def apply_accepted_deliveries(unit: UnitOfWork, timers: list[DueTimer]) -> None:
    """Lock or create the interviews, fold the deliveries in (in the order they are due), emit
    the event of each status reached first; a delivery for another interview is kept in
    ``unmatched_deliveries``.

    The runner calls this in a savepoint of its transaction: if it raises, nothing it wrote
    stays and each timer is tried again alone, so only a failing one is retried with backoff
    (its payload, and the receipt, still hold the delivery); once it returns, the timers are
    marked done in the same commit, so no delivery is applied twice.
    """
    incoming = [
        service.Incoming(
            vendor=timer.payload["vendor"],
            webhook_id=timer.payload["webhook_id"],
            delivery=AiInterviewDelivery.model_validate(timer.payload["delivery"]),
            payload=timer.payload["delivery"],
        )
        for timer in timers
    ]
    applied = await service.apply_deliveries(unit, incoming)
    for item, result in zip(incoming, applied, strict=True):
        if result.outcome != "applied":
            # No personal data: the vendor, its delivery id and why it was kept.
            log.warning(
                "ai_interview.delivery_kept",
                vendor=item.vendor,
                webhook_id=item.webhook_id,
                reason=result.outcome,
            )
