"""The campaigns' durable timers: ``campaign.run`` evaluates the segment, ``campaign.send``
invites the queued people the hourly limit allows."""

from __future__ import annotations

import uuid

from shared.timers import DueTimer
from shared.unit import UnitOfWork
from talentpool.campaigns import service
from talentpool.timers import timer_handlers


@timer_handlers.on(service.RUN)
async def run_campaign(unit: UnitOfWork, timer: DueTimer) -> None:
    await service.run(unit, uuid.UUID(timer.payload["campaign_id"]), due_at=timer.due_at)


@timer_handlers.on(service.SEND)
async def send_invitations(unit: UnitOfWork, timer: DueTimer) -> None:
    await service.send(unit, uuid.UUID(timer.payload["campaign_id"]))
