"""Holiday calendars: China's (built in, ``cn``) and custom ones, each with its own days."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.calendars.models import HolidayCalendar, HolidayCalendarDay
from scheduler.calendars.schemas import CalendarCreate, CalendarDayPut
from shared.http.pagination import PageParams, paginate
from shared.problems import conflict, not_found
from shared.unit import UnitOfWork


async def create(*, unit: UnitOfWork, body: CalendarCreate) -> HolidayCalendar:
    calendar = HolidayCalendar(
        id=body.id, name=body.name, base="custom", created_at=unit.clock.now()
    )
    try:
        async with unit.session.begin_nested():
            unit.session.add(calendar)
    except IntegrityError:
        raise conflict(f"A calendar {body.id!r} exists already.", slug="calendar-exists") from None
    return calendar


async def list_calendars(
    *, session: AsyncSession, params: PageParams
) -> tuple[list[HolidayCalendar], str | None]:
    return await paginate(
        session, sa.select(HolidayCalendar), order_by=[HolidayCalendar.id], params=params
    )


async def get(*, session: AsyncSession, calendar_id: str) -> HolidayCalendar:
    calendar = await session.get(HolidayCalendar, calendar_id)
    if calendar is None:
        raise not_found("calendar", calendar_id)
    return calendar


async def list_days(
    *, session: AsyncSession, calendar_id: str, year: int
) -> list[HolidayCalendarDay]:
    await get(session=session, calendar_id=calendar_id)
    rows = await session.execute(
        sa.select(HolidayCalendarDay)
        .where(
            HolidayCalendarDay.calendar_id == calendar_id,
            HolidayCalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)),
        )
        .order_by(HolidayCalendarDay.day)
    )
    return list(rows.scalars())


async def put_day(
    *, unit: UnitOfWork, calendar_id: str, day: date, body: CalendarDayPut
) -> tuple[HolidayCalendarDay, bool]:
    """Set the day's kind; true when the day was new."""
    await get(session=unit.session, calendar_id=calendar_id)
    statement = pg_insert(HolidayCalendarDay).values(
        calendar_id=calendar_id, day=day, kind=body.kind, name=body.name
    )
    # xmax is 0 on a freshly inserted row version, not on one the upsert updated.
    inserted = sa.literal_column("xmax = 0", sa.Boolean)
    created: bool = (
        await unit.session.execute(
            statement.on_conflict_do_update(
                index_elements=[HolidayCalendarDay.calendar_id, HolidayCalendarDay.day],
                set_={"kind": statement.excluded.kind, "name": statement.excluded.name},
            ).returning(inserted)
        )
    ).scalar_one()
    stored = HolidayCalendarDay(calendar_id=calendar_id, day=day, kind=body.kind, name=body.name)
    return stored, created


async def delete_day(*, unit: UnitOfWork, calendar_id: str, day: date) -> None:
    await get(session=unit.session, calendar_id=calendar_id)
    removed = await unit.session.execute(
        sa.delete(HolidayCalendarDay)
        .where(HolidayCalendarDay.calendar_id == calendar_id, HolidayCalendarDay.day == day)
        .returning(HolidayCalendarDay.day)
    )
    if removed.first() is None:
        raise not_found(f"day of calendar {calendar_id}", day)
