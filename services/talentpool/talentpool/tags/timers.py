"""Tag expiry: a tag with an end date (an on-hold's ``until``) is removed when its timer
fires, in one batch for every timer due."""

from __future__ import annotations

import uuid

from shared.timers import DueTimer
from shared.unit import UnitOfWork
from talentpool.tags import service
from talentpool.timers import timer_handlers


@timer_handlers.on_batch(service.EXPIRY_TIMER)
async def expire(unit: UnitOfWork, timers: list[DueTimer]) -> None:
    await service.expire(
        unit,
        [(uuid.UUID(timer.payload["profile_id"]), timer.payload["tag"]) for timer in timers],
    )
