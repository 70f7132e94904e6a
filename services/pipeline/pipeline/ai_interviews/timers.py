"""After commit: each accepted vendor delivery is applied to its interview by a durable timer
(``ai_interview.delivery``, due at once), so the webhook answers after one statement."""

from __future__ import annotations

from typing import Any

from pipeline.ai_interviews import service
from pipeline.ai_interviews.schemas import AiInterviewDelivery
from pipeline.timers import timer_handlers
from shared.logging import get_logger
from shared.timers import DueTimer
from shared.unit import UnitOfWork

log = get_logger(__name__)


@timer_handlers.on(service.DELIVERY_TIMER)
async def apply_accepted_delivery(unit: UnitOfWork, timer: DueTimer) -> None:
    """Lock or create the interview, fold the delivery in, emit the event of a status reached
    first; a delivery for another interview is kept in ``unmatched_deliveries``.

    It runs in a savepoint of the timer's transaction: if it raises, nothing it wrote stays and
    the timer is retried with backoff (its payload, and the receipt, still hold the delivery);
    if it returns, the timer is marked done in the same commit, so it is never applied twice.
    """
    vendor: str = timer.payload["vendor"]
    webhook_id: str = timer.payload["webhook_id"]
    payload: dict[str, Any] = timer.payload["delivery"]
    applied = await service.apply_delivery(
        unit=unit,
        vendor=vendor,
        webhook_id=webhook_id,
        delivery=AiInterviewDelivery.model_validate(payload),
        payload=payload,
    )
    if applied.outcome != "applied":
        # No personal data: the vendor, its delivery id and why it was kept.
        log.warning(
            "ai_interview.delivery_kept",
            vendor=vendor,
            webhook_id=webhook_id,
            reason=applied.outcome,
        )
