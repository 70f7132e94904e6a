"""Availability: when each interviewer and room is free over a range, as plain data.

The pure half turns working hours (local wall-clock times per ISO weekday in the resource's IANA
zone), its holiday calendar, overrides, busy blocks and bookings into sorted, merged UTC
intervals; the loader (``load_availability``) reads what it needs in one query and calls
it. The slot algorithm consumes ``Availability`` and never touches the database.

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
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.busy_blocks.models import BusyBlock
from scheduler.calendars.models import HolidayCalendar, HolidayCalendarDay
from scheduler.interviewers.models import AvailabilityOverride, Interviewer
from scheduler.interviews.models import Booking, Interview
from scheduler.rooms.models import Room
from scheduler.slots.intervals import normalise
from scheduler.slots.intervals import subtract as span_subtract
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


class FreeTime(MutableMapping[uuid.UUID, list[Interval]]):
    """``Availability.free``: a mapping of resource to free intervals that the loader fills
    with integer epoch microseconds and turns into datetimes only when read. The slot algorithm
    reads the integers (``seconds``) and never pays for the datetimes."""

    __slots__ = ("_made", "_micros")

    def __init__(self, items: Mapping[uuid.UUID, list[Interval]] | None = None) -> None:
        self._made: dict[uuid.UUID, list[Interval]] = dict(items or {})
        self._micros: dict[uuid.UUID, list[tuple[int, int]]] = {}

    def set_micros(self, key: uuid.UUID, spans: list[tuple[int, int]]) -> None:
        """Free time of ``key`` as sorted, merged, disjoint epoch-microsecond spans."""
        self._made.pop(key, None)
        self._micros[key] = spans

    def seconds(self, key: uuid.UUID) -> list[tuple[int, int]] | None:
        """Free time of ``key`` in whole epoch seconds (each end truncated, as
        ``int(datetime.timestamp())`` does), or None when only datetimes are known."""
        spans = self._micros.get(key)
        if spans is None:
            return None
        return [(a // 1_000_000, b // 1_000_000) for a, b in spans]

    def __getitem__(self, key: uuid.UUID) -> list[Interval]:
        found = self._made.get(key)
        if found is None:
            found = self._made[key] = _to_intervals(self._micros[key])
        return found

    def __setitem__(self, key: uuid.UUID, value: list[Interval]) -> None:
        self._micros.pop(key, None)
        self._made[key] = value

    def __delitem__(self, key: uuid.UUID) -> None:
        if key not in self:
            raise KeyError(key)
        self._made.pop(key, None)
        self._micros.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._made or key in self._micros

    def __iter__(self) -> Iterator[uuid.UUID]:
        yield from self._made
        yield from (k for k in self._micros if k not in self._made)

    def __len__(self) -> int:
        return len(self._made) + sum(1 for k in self._micros if k not in self._made)

    def __repr__(self) -> str:
        return f"FreeTime({dict(self)!r})"


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
    free: FreeTime = field(default_factory=FreeTime)
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


# Working hours to UTC intervals. Inside, instants are integer microseconds since the epoch
# (``Micros``): sorting, merging and subtracting a month of busy blocks is then integer work, and
# datetimes are made once, for the answer.

Micros = int
Spans = list[tuple[Micros, Micros]]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def to_micros(value: datetime) -> Micros:
    """An aware datetime as integer microseconds since the epoch (exact)."""
    return (value - _EPOCH) // _MICRO


def from_micros(value: Micros) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _to_intervals(spans: Spans) -> list[Interval]:
    epoch = _EPOCH
    return [
        (epoch + timedelta(microseconds=a), epoch + timedelta(microseconds=b)) for a, b in spans
    ]


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


@lru_cache(maxsize=65_536)
def _local_span(time_zone: str, day: date, begin: str, finish: str) -> tuple[Micros, Micros]:
    """Local ``begin``-``finish`` on ``day`` in ``time_zone`` as UTC microseconds; the same
    day, hours and zone recur in every request, so the ``zoneinfo`` work is done once."""
    tz = zone(time_zone)
    return (
        to_micros(local_to_utc(day, parse_clock(begin), tz)),
        to_micros(local_to_utc(day, parse_clock(finish), tz)),
    )


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


def _clip(spans: Spans, lo: Micros, hi: Micros) -> Spans:
    return [(a if a > lo else lo, b if b < hi else hi) for a, b in spans if a < hi and b > lo]


def _working_spans(
    working_hours: WorkingHours,
    time_zone: str,
    calendar: BusinessCalendar,
    start: datetime,
    end: datetime,
) -> Spans:
    spans: Spans = []
    for day in local_dates(start, end, zone(time_zone)):
        for begin, finish in hours_for_day(working_hours, day, calendar):
            spans.append(_local_span(time_zone, day, begin, finish))
    return _clip(normalise(spans), to_micros(start), to_micros(end))


def _room_spans(
    time_zone: str, calendar: BusinessCalendar, start: datetime, end: datetime
) -> Spans:
    spans = [
        _local_span(time_zone, day, "00:00", "24:00")
        for day in local_dates(start, end, zone(time_zone))
        if calendar.is_workday(day)
    ]
    return _clip(normalise(spans), to_micros(start), to_micros(end))


def working_intervals(
    working_hours: WorkingHours,
    time_zone: str,
    calendar: BusinessCalendar,
    start: datetime,
    end: datetime,
) -> list[Interval]:
    """Working time over ``[start, end)`` as merged UTC intervals."""
    return _to_intervals(_working_spans(working_hours, time_zone, calendar, start, end))


def room_open_intervals(
    time_zone: str, calendar: BusinessCalendar, start: datetime, end: datetime
) -> list[Interval]:
    """Whole local workdays of the room's calendar over ``[start, end)``."""
    return _to_intervals(_room_spans(time_zone, calendar, start, end))


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


def _free_spans(base: Spans, *, lo: Micros, hi: Micros, available: Spans, blocked: Spans) -> Spans:
    """``free_intervals`` in microseconds."""
    working = normalise([*base, *available]) if available else base
    return _clip(span_subtract(working, normalise(blocked)), lo, hi)


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


# The loader: ONE prebuilt statement, one round trip, one row per resource (interviewers and rooms
# in a UNION ALL), with its calendar's days and its time as arrays from LATERAL subqueries that
# use the GiST indexes on (resource, during): no sort, no GROUP BY. Range ends are clipped to the
# range and turned into epoch microseconds by PostgreSQL in float8 arithmetic that stays exact:
# ``date_part('epoch', end - start)`` is at most the range (a few months), far inside float8's 53
# bits, and the range start's own microseconds are added as a bigint.

_IDS = postgresql.ARRAY(sa.Uuid)
_AT = sa.DateTime(timezone=True)
_P_INTERVIEWERS = sa.bindparam("interviewer_ids", type_=_IDS)
_P_ROOMS = sa.bindparam("room_ids", type_=_IDS)
_P_START = sa.bindparam("start", type_=_AT)
_P_END = sa.bindparam("end", type_=_AT)
_P_START_MICROS = sa.bindparam("start_micros", type_=sa.BigInteger)
_P_WIDE_START = sa.bindparam("wide_start", type_=_AT)
_P_WIDE_END = sa.bindparam("wide_end", type_=_AT)
_P_DAY_LOW = sa.bindparam("day_low", type_=sa.Date)
_P_DAY_HIGH = sa.bindparam("day_high", type_=sa.Date)
_WINDOW = sa.func.tstzrange(_P_START, _P_END)
_MILLION = sa.literal_column("1000000", sa.BigInteger)
_AVAILABLE: sa.ColumnElement[str] = sa.literal_column("'available'", sa.Text)


def _micros(clipped: sa.ColumnElement[datetime]) -> sa.ColumnElement[int]:
    """An instant inside ``[start, end]`` as epoch microseconds (see above: exact)."""
    offset = sa.func.date_part(sa.literal_column("'epoch'"), clipped - _P_START)
    return _P_START_MICROS + sa.cast(offset * _MILLION, sa.BigInteger)


def _spans(during: Any) -> tuple[sa.ColumnElement[int], sa.ColumnElement[int]]:
    """``during`` clipped to the range (``greatest``/``least`` skip a NULL, unbounded end and
    turn infinities into the bound), as microseconds."""
    return (
        _micros(sa.func.greatest(sa.func.lower(during), _P_START)),
        _micros(sa.func.least(sa.func.upper(during), _P_END)),
    )


def _availability_statement() -> sa.Select[Any]:
    resources = sa.union_all(
        sa.select(
            sa.false().label("is_room"),
            Interviewer.id,
            Interviewer.time_zone,
            Interviewer.active,
            Interviewer.calendar_id,
            Interviewer.max_per_day.label("limit_a"),
            Interviewer.max_per_week.label("limit_b"),
            Interviewer.skills.label("tags"),
            sa.null().cast(sa.Text).label("location"),
            Interviewer.working_hours,
        ).where(Interviewer.id == sa.any_(_P_INTERVIEWERS)),
        sa.select(
            sa.true(),
            Room.id,
            Room.time_zone,
            Room.active,
            Room.calendar_id,
            Room.capacity,
            sa.null().cast(sa.Integer),
            Room.equipment,
            Room.location,
            sa.null().cast(postgresql.JSONB),
        ).where(Room.id == sa.any_(_P_ROOMS)),
    ).subquery("resource")
    r = resources.c

    calendar = (
        sa.select(
            sa.func.array_agg(HolidayCalendarDay.day).label("days"),
            sa.func.array_agg(HolidayCalendarDay.kind).label("kinds"),
        )
        .where(
            HolidayCalendarDay.calendar_id == r.calendar_id,
            HolidayCalendarDay.day.between(_P_DAY_LOW, _P_DAY_HIGH),
        )
        .lateral("calendar_days")
    )

    # What blocks the resource: busy blocks, active bookings, and an interviewer's
    # ``unavailable`` overrides (``&&`` the range: their clipped ends are never empty).
    busy = _spans(BusyBlock.during)
    booked = _spans(Booking.during)
    unavailable = _spans(AvailabilityOverride.during)
    blocking = sa.union_all(
        sa.select(busy[0].label("low"), busy[1].label("high"))
        .where(BusyBlock.resource_id == r.id, BusyBlock.during.op("&&")(_WINDOW))
        .correlate(resources),
        sa.select(*booked)
        .where(Booking.resource_id == r.id, Booking.active, Booking.during.op("&&")(_WINDOW))
        .correlate(resources),
        sa.select(*unavailable)
        .where(
            AvailabilityOverride.interviewer_id == r.id,
            AvailabilityOverride.kind != _AVAILABLE,
            AvailabilityOverride.during.op("&&")(_WINDOW),
        )
        .correlate(resources),
    ).subquery("blocking")
    blocked = sa.select(
        sa.func.array_agg(blocking.c.low).label("lows"),
        sa.func.array_agg(blocking.c.high).label("highs"),
    ).lateral("blocked")

    adds = _spans(AvailabilityOverride.during)
    added = (
        sa.select(
            sa.func.array_agg(adds[0]).label("lows"), sa.func.array_agg(adds[1]).label("highs")
        )
        .where(
            AvailabilityOverride.interviewer_id == r.id,
            AvailabilityOverride.kind == _AVAILABLE,
            AvailabilityOverride.during.op("&&")(_WINDOW),
        )
        .lateral("added")
    )

    # Interview starts of an interviewer's active bookings over the whole weeks around the
    # range, for the daily and weekly caps.
    starts = (
        sa.select(sa.func.array_agg(Interview.starts_at).label("starts"))
        .select_from(Booking)
        .join(Interview, Interview.id == Booking.interview_id)
        .where(
            Booking.resource_id == r.id,
            Booking.resource_kind == sa.literal_column("'interviewer'"),
            Booking.active,
            Booking.during.op("&&")(sa.func.tstzrange(_P_WIDE_START, _P_WIDE_END)),
        )
        .lateral("starts")
    )

    on = sa.true()
    return (
        sa.select(
            r.is_room,
            r.id,
            r.time_zone,
            r.active,
            r.calendar_id,
            r.limit_a,
            r.limit_b,
            r.tags,
            r.location,
            r.working_hours,
            HolidayCalendar.base,
            calendar.c.days,
            calendar.c.kinds,
            blocked.c.lows,
            blocked.c.highs,
            added.c.lows,
            added.c.highs,
            starts.c.starts,
        )
        .select_from(resources)
        .outerjoin(HolidayCalendar, HolidayCalendar.id == r.calendar_id)
        .outerjoin(calendar, on)
        .outerjoin(blocked, on)
        .outerjoin(added, on)
        .outerjoin(starts, on)
    )


AVAILABILITY = _availability_statement()
"""Built once (its SQL is compiled once and cached by SQLAlchemy); bound per call."""


async def load_availability(
    session: AsyncSession,
    *,
    interviewer_ids: Iterable[uuid.UUID],
    room_ids: Iterable[uuid.UUID],
    start: datetime,
    end: datetime,
) -> Availability:
    """Free time of the given interviewers and rooms over ``[start, end)``, and the interviewers'
    booked counts per local day and ISO week; one query, whatever the count.
    Unknown ids are left out of the answer."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise ValueError("end must be after start")
    interviewer_list = list(dict.fromkeys(interviewer_ids))
    room_list = list(dict.fromkeys(room_ids))
    answer = Availability(start=start, end=end)
    if not interviewer_list and not room_list:
        return answer

    lo, hi = to_micros(start), to_micros(end)
    # Local dates may reach a day beyond the UTC range either side; weeks for caps a week.
    week = timedelta(days=8)
    rows = (
        await session.execute(
            AVAILABILITY,
            {
                "interviewer_ids": interviewer_list,
                "room_ids": room_list,
                "start": start,
                "end": end,
                "start_micros": lo,
                "wide_start": start - week,
                "wide_end": end + week,
                "day_low": (start - week).date(),
                "day_high": (end + week).date(),
            },
        )
    ).all()

    calendars: dict[str, BusinessCalendar] = {}
    # Resources alike (same zone, calendar and hours: rooms, a team) share their working time.
    bases: dict[tuple[Any, ...], Spans] = {}
    for row in rows:
        (
            is_room,
            resource_id,
            time_zone,
            active,
            calendar_id,
            limit_a,
            limit_b,
            tags,
            location,
            working_hours,
            calendar_base,
            days,
            kinds,
            lows,
            highs,
            add_lows,
            add_highs,
            starts_at,
        ) = row
        if is_room:
            answer.rooms[resource_id] = RoomInfo(
                id=resource_id,
                time_zone=time_zone,
                capacity=limit_a,
                location=location,
                equipment=tuple(tags or ()),
                active=active,
            )
        else:
            answer.interviewers[resource_id] = InterviewerInfo(
                id=resource_id,
                time_zone=time_zone,
                max_per_day=limit_a,
                max_per_week=limit_b,
                skills=tuple(tags or ()),
                active=active,
            )
            per_day, per_week = count_bookings(starts_at or (), time_zone)
            answer.booked_per_day[resource_id] = per_day
            answer.booked_per_week[resource_id] = per_week
        if not active:
            answer.free[resource_id] = []
            continue
        calendar = calendars.get(calendar_id)
        if calendar is None:
            calendar = calendars[calendar_id] = (
                make_calendar(calendar_base, dict(zip(days, kinds, strict=True)) if days else {})
                if calendar_base is not None
                else CHINA
            )
        key: tuple[Any, ...] = (
            (time_zone, calendar_id)
            if is_room
            else (time_zone, calendar_id, _hours_key(working_hours))
        )
        base = bases.get(key)
        if base is None:
            base = bases[key] = (
                _room_spans(time_zone, calendar, start, end)
                if is_room
                else _working_spans(working_hours, time_zone, calendar, start, end)
            )
        answer.free.set_micros(
            resource_id,
            _free_spans(
                base,
                lo=lo,
                hi=hi,
                available=list(zip(add_lows, add_highs, strict=True)) if add_lows else [],
                blocked=list(zip(lows, highs, strict=True)) if lows else [],
            ),
        )
    return answer


def _hours_key(working_hours: WorkingHours) -> tuple[Any, ...]:
    return tuple(
        sorted((day, tuple(tuple(span) for span in spans)) for day, spans in working_hours.items())
    )
