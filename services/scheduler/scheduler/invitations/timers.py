"""Invitation timers: reminders one by one (each reads its invitation), deadlines and the
ends of make-up windows in batches (one UPDATE and one outbox insert for the whole batch)."""

from __future__ import annotations

from scheduler.invitations import service
from scheduler.timers import timer_handlers
from shared.timers import DueTimer
from shared.unit import UnitOfWork


@timer_handlers.on(service.REMINDER)
async def remind(unit: UnitOfWork, timer: DueTimer) -> None:
    await service.remind(unit=unit, timer=timer)


@timer_handlers.on_batch(service.DEADLINE)
async def expire(unit: UnitOfWork, timers: list[DueTimer]) -> None:
    await service.expire(unit=unit, timers=timers)


@timer_handlers.on_batch(service.MAKEUP_END)
async def close_after_makeup(unit: UnitOfWork, timers: list[DueTimer]) -> None:
    await service.close_after_makeup(unit=unit, timers=timers)
