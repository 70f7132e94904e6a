"""The unit of work a route, an event handler or a timer handler gets: one transaction's session
and the ways to emit events and set timers inside that same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from shared.clock import Clock
    from shared.events.envelope import CloudEvent, EventData
    from shared.messaging.outbox import OutboxWriter
    from shared.settings import ServiceSettings
    from shared.timers import Timers


@dataclass(frozen=True)
class UnitOfWork:
    session: AsyncSession
    outbox: OutboxWriter
    timers: Timers
    clock: Clock
    # The service's settings, for handlers whose behaviour is configured (quiet hours, ...).
    settings: ServiceSettings | None = None

    async def emit(
        self, data: EventData, *, subject: str, sequence: int | None = None
    ) -> CloudEvent:
        """Write an event to the outbox; it is published only if this transaction commits."""
        return await self.outbox.add(self.session, data, subject=subject, sequence=sequence)

    async def emit_many(
        self, items: Sequence[tuple[EventData, str, int | None]]
    ) -> list[CloudEvent]:
        """Write several events, each ``(data, subject, sequence)``, in one statement."""
        return await self.outbox.add_many(self.session, items)
