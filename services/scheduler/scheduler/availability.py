"""Availability: when each interviewer and room is free over a range, as plain data.

The pure half turns working hours (local wall-clock times per ISO weekday in the resource's IANA
zone), its holiday calendar, overrides, busy blocks and bookings into sorted, merged UTC
intervals; the loader (``load_availability``) reads what it needs with one query per table and
calls it. The slot algorithm consumes ``Availability`` and never touches the database.

Rules (see ``docs/scheduler/resources.md``):

- Working hours apply per *local date*: ``09:00-18:00`` is 9 hours even on a daylight-saving
  switch day. A wall-clock time that does not exist (spring forward) is read with the offset in
  force before the switch (``02:30`` becomes ``03:30``); an ambiguous one (fall back) is the
  first occurrence.
- Holidays of the calendar (public holidays, also on a weekend, and override holidays) have no
  working hours. Ordinary weekends follow the working hours (someone with Saturday hours works
  ordinary Saturdays). A make-up workday (a worked Saturday or Sunday, China's 调休) has that
  weekday's own hours if it has any, else **Monday's** hours (else the first weekday, 1-5,
  with hours).
- Rooms have no working hours: a room is free all day (local 00:00-24:00) on every workday of
  its calendar, and not on other days.
- free = (working hours + ``available`` overrides) - ``unavailable`` overrides - busy blocks -
  active bookings, clipped to the requested range. Inactive resources are free never.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.busy_blocks.models import BusyBlock
from scheduler.calendars.models import HolidayCalendar, HolidayCalendarDay
from scheduler.interviewers.models import AvailabilityOverride, Interviewer
from scheduler.interviews.models import Booking, Interview
from scheduler.rooms.models import Room
from shared.calendar import CHINA, BusinessCalendar, CalendarBase, DayKind

Interval = tuple[datetime, datetime]
"""A half-open UTC interval ``[start, end)``; both ends aware, start < end."""

IsoWeek = tuple[int, int]
"""An ISO year and week number, e.g. ``(2026, 11)``."""

WorkingHours = Mapping[str, Sequence[Sequence[str]]]
"""Local hours by ISO weekday: ``{"1": [["09:00", "12:00"], ["13:30", "18:00"]], ...}``."""

MAKEUP_DAY_HOURS_FROM = 1
"""A make-up workday without hours of its own takes Monday's (ISO weekday 1)."""


@dataclass(frozen=True, slots=True)
class InterviewerInfo:
    id: uuid.UUID
    time_zone: str
    max_per_day: int | None
    max_per_week: int | None
    skills: tuple[str, ...] = ()
    active: bool = True


@dataclass(frozen=True, slots=True)
class RoomInfo:
    id: uuid.UUID
    time_zone: str
    capacity: int
    location: str = ""
    equipment: tuple[str, ...] = ()
    active: bool = True


@dataclass(slots=True)
class Availability:
    """Free time of interviewers and rooms over ``[start, end)``.

    ``free[id]``: sorted, merged, disjoint UTC intervals, every one inside ``[start, end)``;
    present for every known interviewer and room asked for (empty when never free).
    ``booked_per_day[interviewer_id][local_date]`` and ``booked_per_week[interviewer_id]
    [(iso_year, iso_week)]``: active bookings of the interviewer whose interview starts on that
    local date / ISO week in the interviewer's zone (weeks overlapping the range are counted
    whole, also outside it), for the daily and weekly caps.
    """

    start: datetime
    end: datetime
    free: dict[uuid.UUID, list[Interval]] = field(default_factory=dict)
    interviewers: dict[uuid.UUID, InterviewerInfo] = field(default_factory=dict)
    rooms: dict[uuid.UUID, RoomInfo] = field(default_factory=dict)
    booked_per_day: dict[uuid.UUID, dict[date, int]] = field(default_factory=dict)
    booked_per_week: dict[uuid.UUID, dict[IsoWeek, int]] = field(default_factory=dict)


# Interval algebra: sorted sweeps, no framework.


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and merge overlapping or touching intervals; drop empty ones."""
    ordered = sorted((s, e) for s, e in intervals if s < e)
    merged: list[Interval] = []
    for start, end in ordered:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(base: Sequence[Interval], cut: Sequence[Interval]) -> list[Interval]:
    """``base`` minus ``cut``; both sorted, merged and disjoint (as ``merge`` returns them)."""
    result: list[Interval] = []
    j = 0
    for start, end in base:
        while j < len(cut) and cut[j][1] <= start:
            j += 1
        cursor = start
        k = j
        while k < len(cut) and cut[k][0] < end:
            cut_start, cut_end = cut[k]
            if cut_start > cursor:
                result.append((cursor, cut_start))
            if cut_end > cursor:
                cursor = cut_end
            if cursor >= end:
                break
            k += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def clip(intervals: Sequence[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of sorted intervals inside ``[start, end)``."""
    return [(max(s, start), min(e, end)) for s, e in intervals if s < end and e > start]


# Working hours to UTC intervals.


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_clock(value: str) -> tuple[int, int]:
    """``"09:30"`` to (9, 30); ``"24:00"`` (the end of the day) is allowed."""
    hours, _, minutes = value.partition(":")
    if len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(f"{value!r} is not HH:MM")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 23 and 0 <= m <= 59) and (h, m) != (24, 0):
        raise ValueError(f"{value!r} is not a time of day")
    return h, m


def local_to_utc(day: date, clock: tuple[int, int], tz: ZoneInfo) -> datetime:
    """A local wall-clock time on ``day`` as UTC (gaps read with the earlier offset, ambiguous
    times as their first occurrence; ``24:00`` is the next day's midnight)."""
    hours, minutes = clock
    if hours == 24:
        day, hours = day + timedelta(days=1), 0
    local = datetime.combine(day, time(hours, minutes), tzinfo=tz)
    return local.astimezone(UTC)


def hours_for_day(working_hours: WorkingHours, day: date, calendar: BusinessCalendar) -> list[Any]:
    """The local hour ranges that apply on ``day`` (see the module docstring)."""
    if calendar.is_holiday(day):
        return []
    own = list(working_hours.get(str(day.isoweekday()), []))
    if own or not calendar.is_makeup_workday(day):
        return own
    for weekday in (MAKEUP_DAY_HOURS_FROM, 2, 3, 4, 5):
        hours = list(working_hours.get(str(weekday), []))
        if hours:
            return hours
    return []


def local_dates(start: datetime, end: datetime, tz: ZoneInfo) -> list[date]:
    """Every local date in ``tz`` that ``[start, end)`` touches."""
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def working_intervals(
    working_hours: WorkingHours,
    time_zone: str,
    calendar: BusinessCalendar,
    start: datetime,
    end: datetime,
) -> list[Interval]:
    """Working time over ``[start, end)`` as merged UTC intervals."""
    tz = zone(time_zone)
    intervals: list[Interval] = []
    for day in local_dates(start, end, tz):
        for begin, finish in hours_for_day(working_hours, day, calendar):
            intervals.append(
                (
                    local_to_utc(day, parse_clock(begin), tz),
                    local_to_utc(day, parse_clock(finish), tz),
                )
            )
    return clip(merge(intervals), start, end)


def room_open_intervals(
    time_zone: str, calendar: BusinessCalendar, start: datetime, end: datetime
) -> list[Interval]:
    """Whole local workdays of the room's calendar over ``[start, end)``."""
    tz = zone(time_zone)
    intervals = [
        (local_to_utc(day, (0, 0), tz), local_to_utc(day, (24, 0), tz))
        for day in local_dates(start, end, tz)
        if calendar.is_workday(day)
    ]
    return clip(merge(intervals), start, end)


def free_intervals(
    base: Sequence[Interval],
    *,
    start: datetime,
    end: datetime,
    available: Iterable[Interval] = (),
    unavailable: Iterable[Interval] = (),
    busy: Iterable[Interval] = (),
) -> list[Interval]:
    """(base + available) - unavailable - busy, clipped to ``[start, end)``."""
    working = merge([*base, *available])
    blocked = merge([*unavailable, *busy])
    return clip(subtract(working, blocked), start, end)


def count_bookings(
    starts: Iterable[datetime], time_zone: str
) -> tuple[dict[date, int], dict[IsoWeek, int]]:
    """Interviews per local date and per ISO week in ``time_zone``."""
    tz = zone(time_zone)
    per_day: dict[date, int] = defaultdict(int)
    per_week: dict[IsoWeek, int] = defaultdict(int)
    for moment in starts:
        local = moment.astimezone(tz).date()
        per_day[local] += 1
        iso = local.isocalendar()
        per_week[(iso.year, iso.week)] += 1
    return dict(per_day), dict(per_week)


def make_calendar(base: str, days: Mapping[date, str]) -> BusinessCalendar:
    """A holiday calendar from its row: ``cn`` has China's calendar underneath, ``custom``
    only weekends; its days on top."""
    calendar_base: CalendarBase = "cn" if base == "cn" else "weekends"
    return BusinessCalendar({d: cast(DayKind, k) for d, k in days.items()}, base=calendar_base)


# The loader.


def _utc(value: datetime | None, default: datetime) -> datetime:
    return default if value is None else value.astimezone(UTC)


async def load_availability(
    session: AsyncSession,
    *,
    interviewer_ids: Iterable[uuid.UUID],
    room_ids: Iterable[uuid.UUID],
    start: datetime,
    end: datetime,
) -> Availability:
    """Free time of the given interviewers and rooms over ``[start, end)``, and the interviewers'
    booked counts per local day and ISO week; one query per table, whatever the count.
    Unknown ids are left out of the answer."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise ValueError("end must be after start")
    interviewer_list = list(dict.fromkeys(interviewer_ids))
    room_list = list(dict.fromkeys(room_ids))
    answer = Availability(start=start, end=end)
    resource_ids = [*interviewer_list, *room_list]
    if not resource_ids:
        return answer

    interviewers = (
        (await session.execute(sa.select(Interviewer).where(Interviewer.id.in_(interviewer_list))))
        .scalars()
        .all()
        if interviewer_list
        else []
    )
    rooms = (
        (await session.execute(sa.select(Room).where(Room.id.in_(room_list)))).scalars().all()
        if room_list
        else []
    )
    if not interviewers and not rooms:
        return answer

    # Local dates may reach a day beyond the UTC range either side; weeks for caps a week.
    day_low, day_high = (start - timedelta(days=8)).date(), (end + timedelta(days=8)).date()
    calendar_ids = {i.calendar_id for i in interviewers} | {r.calendar_id for r in rooms}
    calendar_rows = (
        await session.execute(
            sa.select(
                HolidayCalendar.id,
                HolidayCalendar.base,
                HolidayCalendarDay.day,
                HolidayCalendarDay.kind,
            )
            .outerjoin(
                HolidayCalendarDay,
                sa.and_(
                    HolidayCalendarDay.calendar_id == HolidayCalendar.id,
                    HolidayCalendarDay.day.between(day_low, day_high),
                ),
            )
            .where(HolidayCalendar.id.in_(calendar_ids))
        )
    ).all()
    bases: dict[str, str] = {}
    days: dict[str, dict[date, str]] = defaultdict(dict)
    for calendar_id, calendar_base, day, kind in calendar_rows:
        bases[calendar_id] = calendar_base
        if day is not None:
            days[calendar_id][day] = kind
    calendars = {cid: make_calendar(b, days[cid]) for cid, b in bases.items()}

    window = sa.func.tstzrange(start, end)
    present = [i.id for i in interviewers] + [r.id for r in rooms]

    available: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    unavailable: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    if interviewers:
        overrides = await session.execute(
            sa.select(
                AvailabilityOverride.interviewer_id,
                AvailabilityOverride.kind,
                sa.func.lower(AvailabilityOverride.during),
                sa.func.upper(AvailabilityOverride.during),
            ).where(
                AvailabilityOverride.interviewer_id.in_([i.id for i in interviewers]),
                AvailabilityOverride.during.op("&&")(window),
            )
        )
        for interviewer_id, kind, low, high in overrides:
            target = available if kind == "available" else unavailable
            target[interviewer_id].append((_utc(low, start), _utc(high, end)))

    busy: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    blocks = await session.execute(
        sa.select(
            BusyBlock.resource_id, sa.func.lower(BusyBlock.during), sa.func.upper(BusyBlock.during)
        ).where(BusyBlock.resource_id.in_(present), BusyBlock.during.op("&&")(window))
    )
    for resource_id, low, high in blocks:
        busy[resource_id].append((_utc(low, start), _utc(high, end)))

    # Bookings: over the range for free time, over the whole weeks around it for the caps.
    wide = sa.func.tstzrange(start - timedelta(days=8), end + timedelta(days=8))
    booking_rows = await session.execute(
        sa.select(
            Booking.resource_id,
            Booking.resource_kind,
            sa.func.lower(Booking.during),
            sa.func.upper(Booking.during),
            Interview.starts_at,
        )
        .join(Interview, Interview.id == Booking.interview_id)
        .where(Booking.resource_id.in_(present), Booking.active, Booking.during.op("&&")(wide))
    )
    starts: dict[uuid.UUID, list[datetime]] = defaultdict(list)
    for resource_id, kind, low, high, starts_at in booking_rows:
        busy[resource_id].append((_utc(low, start), _utc(high, end)))
        if kind == "interviewer":
            starts[resource_id].append(starts_at)

    for interviewer in interviewers:
        info = InterviewerInfo(
            id=interviewer.id,
            time_zone=interviewer.time_zone,
            max_per_day=interviewer.max_per_day,
            max_per_week=interviewer.max_per_week,
            skills=tuple(interviewer.skills or ()),
            active=interviewer.active,
        )
        answer.interviewers[interviewer.id] = info
        per_day, per_week = count_bookings(starts[interviewer.id], interviewer.time_zone)
        answer.booked_per_day[interviewer.id] = per_day
        answer.booked_per_week[interviewer.id] = per_week
        if not interviewer.active:
            answer.free[interviewer.id] = []
            continue
        calendar = calendars.get(interviewer.calendar_id, CHINA)
        base = working_intervals(
            interviewer.working_hours, interviewer.time_zone, calendar, start, end
        )
        answer.free[interviewer.id] = free_intervals(
            base,
            start=start,
            end=end,
            available=available[interviewer.id],
            unavailable=unavailable[interviewer.id],
            busy=busy[interviewer.id],
        )

    for room in rooms:
        answer.rooms[room.id] = RoomInfo(
            id=room.id,
            time_zone=room.time_zone,
            capacity=room.capacity,
            location=room.location,
            equipment=tuple(room.equipment or ()),
            active=room.active,
        )
        if not room.active:
            answer.free[room.id] = []
            continue
        calendar = calendars.get(room.calendar_id, CHINA)
        base = room_open_intervals(room.time_zone, calendar, start, end)
        answer.free[room.id] = free_intervals(base, start=start, end=end, busy=busy[room.id])
    return answer
