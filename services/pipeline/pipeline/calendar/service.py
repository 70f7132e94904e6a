"""Calendar overrides: holidays and workdays an administrator sets on top of China's official
calendar, and the ``BusinessCalendar`` built from them (cached briefly per process)."""

from __future__ import annotations

import time
from datetime import date
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.calendar.models import CalendarDay
from pipeline.calendar.schemas import CalendarDayIn
from shared.calendar import BusinessCalendar, DayKind
from shared.unit import UnitOfWork

# How long a process reuses the overrides it loaded. Writes through this process drop the cache
# at once; other replicas see a change within this time.
CACHE_TTL_S = 30.0

_days = cast(sa.Table, CalendarDay.__table__)


async def load_calendar(session: AsyncSession) -> BusinessCalendar:
    """China's calendar with every override applied (the table holds a few rows per year)."""
    rows = await session.execute(sa.select(_days.c.day, _days.c.kind))
    return BusinessCalendar({row.day: cast(DayKind, row.kind) for row in rows})


class CalendarCache:
    """The calendar of one process, reloaded after ``CACHE_TTL_S`` or a local write."""

    def __init__(self, ttl_s: float = CACHE_TTL_S) -> None:
        self._ttl_s = ttl_s
        self._calendar: BusinessCalendar | None = None
        self._loaded_at = 0.0

    async def get(self, session: AsyncSession) -> BusinessCalendar:
        if self._calendar is None or time.monotonic() - self._loaded_at > self._ttl_s:
            self._calendar = await load_calendar(session)
            self._loaded_at = time.monotonic()
        return self._calendar

    def invalidate(self) -> None:
        self._calendar = None


async def list_year(*, session: AsyncSession, year: int) -> list[CalendarDay]:
    result = await session.execute(
        sa.select(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)
    )
    return list(result.scalars())


async def put(*, unit: UnitOfWork, day: date, day_in: CalendarDayIn, actor: str) -> bool:
    """Set the override of ``day``; True if it is new."""
    statement = pg_insert(_days).values(
        day=day, kind=day_in.kind, name=day_in.name, updated_by=actor, updated_at=unit.clock.now()
    )
    result: sa.Result[tuple[bool]] = await unit.session.execute(
        statement.on_conflict_do_update(
            index_elements=[_days.c.day],
            set_={
                "kind": statement.excluded.kind,
                "name": statement.excluded.name,
                "updated_by": statement.excluded.updated_by,
                "updated_at": statement.excluded.updated_at,
            },
        ).returning(sa.literal_column("xmax = 0").label("inserted"))
    )
    return bool(result.scalar_one())


async def get(*, session: AsyncSession, day: date) -> CalendarDay | None:
    return await session.get(CalendarDay, day, populate_existing=True)


async def delete(*, unit: UnitOfWork, day: date) -> bool:
    result = await unit.session.execute(
        sa.delete(_days).where(_days.c.day == day).returning(_days.c.day)
    )
    return result.first() is not None
