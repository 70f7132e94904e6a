"""Timers of results: scheduled releases and approval escalations."""

from __future__ import annotations

import uuid

from pipeline.results import service
from pipeline.timers import timer_handlers
from shared.timers import DueTimer
from shared.unit import UnitOfWork


@timer_handlers.on(service.RELEASE_TIMER)
async def release_result(unit: UnitOfWork, timer: DueTimer) -> None:
    await service.release_scheduled(unit, uuid.UUID(timer.payload["result_id"]))


@timer_handlers.on(service.ESCALATION_TIMER)
async def escalate_approval(unit: UnitOfWork, timer: DueTimer) -> None:
    await service.escalate(unit, uuid.UUID(timer.payload["step_id"]))
