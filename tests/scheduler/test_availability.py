"""Availability: working hours to UTC per local date (DST-correct), holidays and make-up days,
interval algebra against a minute grid, and the loader over the database."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.availability import (
    Availability,
    Interval,
    count_bookings,
    free_intervals,
    load_availability,
    local_to_utc,
    make_calendar,
    merge,
    room_open_intervals,
    subtract,
    working_intervals,
)
from shared.calendar import CHINA, BusinessCalendar
from tests.scheduler.resources_support import (
    EVERY_DAY_9_TO_6,
    WEEKDAYS_9_TO_6,
    insert_booking,
    insert_busy_block,
    insert_calendar,
    insert_interviewer,
    insert_job,
    insert_override,
    insert_room,
)
from tests.support.running import Running

WEEKENDS_ONLY = BusinessCalendar(base="weekends")
BASE = datetime(2026, 1, 1, tzinfo=UTC)
ZONES = ["America/New_York", "Europe/Berlin", "Asia/Shanghai", "Australia/Lord_Howe"]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def total(intervals: list[Interval]) -> timedelta:
    return sum((end - start for start, end in intervals), timedelta())


def at_local(day: date, hour: int, minute: int, tz: str) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(tz)).astimezone(UTC)


# Interval algebra against a minute grid.

minute_intervals = st.lists(
    st.tuples(st.integers(0, 600), st.integers(1, 120)).map(
        lambda p: (BASE + timedelta(minutes=p[0]), BASE + timedelta(minutes=p[0] + p[1]))
    ),
    max_size=12,
)


def grid(intervals: list[Interval]) -> set[int]:
    return {
        minute
        for start, end in intervals
        for minute in range(
            int((start - BASE).total_seconds() // 60), int((end - BASE).total_seconds() // 60)
        )
    }


def is_normal(intervals: list[Interval]) -> bool:
    """Sorted, non-empty, disjoint and not touching."""
    return all(s < e for s, e in intervals) and all(a[1] < b[0] for a, b in pairwise(intervals))


@given(minute_intervals)
def test_merge_keeps_the_same_minutes_in_sorted_disjoint_intervals(
    intervals: list[Interval],
) -> None:
    merged = merge(intervals)

    assert is_normal(merged)
    assert grid(merged) == grid(intervals)


@given(minute_intervals, minute_intervals)
def test_subtract_removes_exactly_the_cut_minutes(
    base: list[Interval], cut: list[Interval]
) -> None:
    result = subtract(merge(base), merge(cut))

    assert is_normal(result)
    assert grid(result) == grid(base) - grid(cut)


@given(minute_intervals, minute_intervals, minute_intervals, minute_intervals)
def test_free_time_is_working_plus_available_minus_unavailable_and_busy(
    base: list[Interval],
    available: list[Interval],
    unavailable: list[Interval],
    busy: list[Interval],
) -> None:
    start, end = BASE + timedelta(minutes=60), BASE + timedelta(minutes=500)

    free = free_intervals(
        merge(base), start=start, end=end, available=available, unavailable=unavailable, busy=busy
    )

    window = set(range(60, 500))
    expected = ((grid(base) | grid(available)) - grid(unavailable) - grid(busy)) & window
    assert is_normal(free)
    assert grid(free) == expected


# Working hours, per local date and DST-correct.


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(ZONES), st.dates(date(2025, 1, 1), date(2027, 12, 31)))
def test_a_nine_to_six_day_is_nine_hours_on_every_local_date_including_dst_switches(
    tz: str, day: date
) -> None:
    start = at_local(day, 0, 0, tz)
    end = at_local(day + timedelta(days=1), 0, 0, tz)

    intervals = working_intervals(EVERY_DAY_9_TO_6, tz, WEEKENDS_ONLY, start, end)

    assert intervals == [(at_local(day, 9, 0, tz), at_local(day, 18, 0, tz))]
    assert total(intervals) == timedelta(hours=9)
    local_start = intervals[0][0].astimezone(ZoneInfo(tz))
    assert (local_start.date(), local_start.time()) == (day, time(9, 0))


def test_new_york_spring_forward_day_keeps_nine_working_hours_with_a_new_offset() -> None:
    # 2026-03-08: clocks go from 02:00 EST to 03:00 EDT.
    switch = date(2026, 3, 8)

    intervals = working_intervals(
        EVERY_DAY_9_TO_6, "America/New_York", WEEKENDS_ONLY, utc(2026, 3, 7), utc(2026, 3, 10)
    )

    assert intervals == [
        (utc(2026, 3, 7, 14), utc(2026, 3, 7, 23)),  # EST, UTC-5
        (utc(2026, 3, 8, 13), utc(2026, 3, 8, 22)),  # EDT, UTC-4
        (utc(2026, 3, 9, 13), utc(2026, 3, 9, 22)),
    ]
    assert all(end - start == timedelta(hours=9) for start, end in intervals)
    assert intervals[1][0].astimezone(ZoneInfo("America/New_York")).date() == switch


def test_berlin_fall_back_night_shift_spanning_the_switch_lasts_one_hour_more() -> None:
    # 2026-10-25 03:00 CEST becomes 02:00 CET: a 00:00-06:00 shift is 7 hours long.
    hours = {"7": [["00:00", "06:00"]]}
    day = date(2026, 10, 25)

    intervals = working_intervals(
        hours, "Europe/Berlin", WEEKENDS_ONLY, utc(2026, 10, 24), utc(2026, 10, 27)
    )

    assert intervals == [(utc(2026, 10, 24, 22), utc(2026, 10, 25, 5))]
    assert day.isoweekday() == 7


def test_a_start_time_inside_the_spring_forward_gap_is_read_with_the_earlier_offset() -> None:
    # 02:30 does not exist in New York on 2026-03-08; it is read as 02:30 EST = 03:30 EDT.
    moment = local_to_utc(date(2026, 3, 8), (2, 30), ZoneInfo("America/New_York"))

    assert moment == utc(2026, 3, 8, 7, 30)


def test_working_hours_are_clipped_to_the_requested_range() -> None:
    day = date(2026, 3, 9)  # Monday

    intervals = working_intervals(
        WEEKDAYS_9_TO_6,
        "Asia/Shanghai",
        CHINA,
        at_local(day, 10, 0, "Asia/Shanghai"),
        at_local(day, 14, 0, "Asia/Shanghai"),
    )

    assert intervals == [
        (at_local(day, 10, 0, "Asia/Shanghai"), at_local(day, 12, 0, "Asia/Shanghai")),
        (at_local(day, 13, 0, "Asia/Shanghai"), at_local(day, 14, 0, "Asia/Shanghai")),
    ]


def test_end_of_day_2400_reaches_the_next_local_midnight() -> None:
    day = date(2026, 3, 9)

    intervals = working_intervals(
        {"1": [["20:00", "24:00"]]}, "Asia/Shanghai", CHINA, utc(2026, 3, 8), utc(2026, 3, 11)
    )

    assert intervals == [
        (
            at_local(day, 20, 0, "Asia/Shanghai"),
            at_local(day + timedelta(days=1), 0, 0, "Asia/Shanghai"),
        )
    ]


# Holidays and make-up workdays (China's calendar).


def shanghai_day(
    day: date, hours: dict[str, list[list[str]]], calendar: BusinessCalendar = CHINA
) -> list[Interval]:
    return working_intervals(
        hours,
        "Asia/Shanghai",
        calendar,
        at_local(day, 0, 0, "Asia/Shanghai"),
        at_local(day + timedelta(days=1), 0, 0, "Asia/Shanghai"),
    )


def test_national_day_weekdays_have_no_working_hours() -> None:
    assert shanghai_day(date(2026, 10, 1), WEEKDAYS_9_TO_6) == []  # a Thursday, holiday
    assert shanghai_day(date(2026, 10, 9), WEEKDAYS_9_TO_6) != []  # Friday after, a workday


def test_public_holiday_on_a_weekend_is_off_even_for_someone_who_works_weekends() -> None:
    assert shanghai_day(date(2026, 10, 3), EVERY_DAY_9_TO_6) == []  # Saturday in golden week


def test_ordinary_saturday_follows_the_working_hours() -> None:
    saturday = date(2026, 3, 7)

    assert shanghai_day(saturday, WEEKDAYS_9_TO_6) == []
    assert total(shanghai_day(saturday, EVERY_DAY_9_TO_6)) == timedelta(hours=9)


def test_make_up_saturday_takes_mondays_hours_when_it_has_none_of_its_own() -> None:
    makeup = date(2026, 10, 10)  # a Saturday worked for the National Day week
    hours = {"1": [["10:00", "16:00"]], "2": [["09:00", "18:00"]]}

    assert CHINA.is_makeup_workday(makeup)
    assert shanghai_day(makeup, hours) == [
        (at_local(makeup, 10, 0, "Asia/Shanghai"), at_local(makeup, 16, 0, "Asia/Shanghai"))
    ]


def test_make_up_sunday_keeps_its_own_hours_when_it_has_some() -> None:
    makeup = date(2026, 9, 20)  # a Sunday worked for the National Day week
    hours = {"1": [["10:00", "16:00"]], "7": [["09:00", "11:00"]]}

    assert shanghai_day(makeup, hours) == [
        (at_local(makeup, 9, 0, "Asia/Shanghai"), at_local(makeup, 11, 0, "Asia/Shanghai"))
    ]


def test_make_up_day_without_monday_hours_takes_the_first_weekday_with_hours() -> None:
    makeup = date(2026, 10, 10)

    assert shanghai_day(makeup, {"3": [["14:00", "15:00"]]}) == [
        (at_local(makeup, 14, 0, "Asia/Shanghai"), at_local(makeup, 15, 0, "Asia/Shanghai"))
    ]


def test_custom_calendar_knows_only_weekends_and_its_own_days() -> None:
    calendar = make_calendar("custom", {date(2026, 3, 9): "holiday", date(2026, 3, 7): "workday"})

    assert shanghai_day(date(2026, 3, 9), WEEKDAYS_9_TO_6, calendar) == []
    assert shanghai_day(date(2026, 10, 1), WEEKDAYS_9_TO_6, calendar) != []  # not China's
    assert total(shanghai_day(date(2026, 3, 7), WEEKDAYS_9_TO_6, calendar)) == timedelta(hours=8)


def test_room_is_open_whole_local_workdays_only() -> None:
    start, end = (
        at_local(date(2026, 9, 30), 0, 0, "Asia/Shanghai"),
        at_local(date(2026, 10, 2), 0, 0, "Asia/Shanghai"),
    )

    assert room_open_intervals("Asia/Shanghai", CHINA, start, end) == [
        (start, at_local(date(2026, 10, 1), 0, 0, "Asia/Shanghai"))
    ]


def test_bookings_are_counted_per_local_day_and_iso_week_of_the_interviewer() -> None:
    # 23:30 UTC on Sunday 2026-03-08 is already Monday 07:30 in Shanghai.
    starts = [utc(2026, 3, 8, 23, 30), utc(2026, 3, 9, 2), utc(2026, 3, 8, 10)]

    per_day, per_week = count_bookings(starts, "Asia/Shanghai")

    assert per_day == {date(2026, 3, 9): 2, date(2026, 3, 8): 1}
    assert per_week == {(2026, 11): 2, (2026, 10): 1}


# The loader.


async def load(service: Running, **kwargs: object) -> Availability:
    async with service.runtime.db.sessionmaker() as session:
        return await load_availability(session, **kwargs)  # type: ignore[arg-type]


MONDAY = date(2026, 3, 9)
SH = "Asia/Shanghai"


async def test_loader_subtracts_busy_blocks_overrides_and_active_bookings(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    interviewer = await insert_interviewer(db, max_per_day=2, max_per_week=5)
    room = await insert_room(db)
    job = await insert_job(db)
    await insert_busy_block(
        db, interviewer, at_local(MONDAY, 9, 0, SH), at_local(MONDAY, 10, 0, SH)
    )
    await insert_override(
        db, interviewer, at_local(MONDAY, 19, 0, SH), at_local(MONDAY, 20, 0, SH), "available"
    )
    await insert_override(
        db, interviewer, at_local(MONDAY, 16, 0, SH), at_local(MONDAY, 18, 0, SH), "unavailable"
    )
    await insert_booking(
        db,
        job_id=job,
        start=at_local(MONDAY, 11, 0, SH),
        end=at_local(MONDAY, 12, 0, SH),
        interviewer_ids=[interviewer],
        room_id=room,
    )
    await insert_booking(
        db,
        job_id=job,
        start=at_local(MONDAY, 14, 0, SH),
        end=at_local(MONDAY, 15, 0, SH),
        interviewer_ids=[interviewer],
        active=False,
    )
    start, end = at_local(MONDAY, 0, 0, SH), at_local(MONDAY + timedelta(days=1), 0, 0, SH)

    availability = await load(
        scheduler_http, interviewer_ids=[interviewer], room_ids=[room], start=start, end=end
    )

    assert availability.free[interviewer] == [
        (at_local(MONDAY, 10, 0, SH), at_local(MONDAY, 11, 0, SH)),
        (at_local(MONDAY, 13, 0, SH), at_local(MONDAY, 16, 0, SH)),
        (at_local(MONDAY, 19, 0, SH), at_local(MONDAY, 20, 0, SH)),
    ]
    assert availability.free[room] == [
        (start, at_local(MONDAY, 11, 0, SH)),
        (at_local(MONDAY, 12, 0, SH), end),
    ]
    assert availability.booked_per_day[interviewer] == {MONDAY: 1}
    assert availability.booked_per_week[interviewer] == {(2026, 11): 1}
    info = availability.interviewers[interviewer]
    assert (info.max_per_day, info.max_per_week, info.time_zone) == (2, 5, SH)
    assert availability.rooms[room].capacity == 4


async def test_loader_counts_bookings_of_the_whole_week_outside_the_range(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    interviewer = await insert_interviewer(db)
    job = await insert_job(db)
    friday = MONDAY + timedelta(days=4)
    await insert_booking(
        db,
        job_id=job,
        start=at_local(MONDAY, 9, 0, SH),
        end=at_local(MONDAY, 10, 0, SH),
        interviewer_ids=[interviewer],
    )

    availability = await load(
        scheduler_http,
        interviewer_ids=[interviewer],
        room_ids=[],
        start=at_local(friday, 0, 0, SH),
        end=at_local(friday, 23, 0, SH),
    )

    assert availability.booked_per_week[interviewer] == {(2026, 11): 1}
    assert availability.booked_per_day[interviewer] == {MONDAY: 1}


async def test_loader_uses_each_resources_calendar_days(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    await insert_calendar(db, "acme", days={MONDAY: "holiday"})
    on_custom = await insert_interviewer(db, calendar_id="acme")
    on_china = await insert_interviewer(db)
    room = await insert_room(db, calendar_id="acme")

    availability = await load(
        scheduler_http,
        interviewer_ids=[on_custom, on_china],
        room_ids=[room],
        start=at_local(MONDAY, 0, 0, SH),
        end=at_local(MONDAY, 23, 0, SH),
    )

    assert availability.free[on_custom] == []
    assert availability.free[room] == []
    assert total(availability.free[on_china]) == timedelta(hours=8)


async def test_loader_leaves_unknown_ids_out_and_gives_inactive_resources_no_time(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    inactive = await insert_interviewer(db, active=False)
    unknown = uuid.uuid4()

    availability = await load(
        scheduler_http,
        interviewer_ids=[inactive, unknown],
        room_ids=[unknown],
        start=at_local(MONDAY, 0, 0, SH),
        end=at_local(MONDAY, 23, 0, SH),
    )

    assert availability.free == {inactive: []}
    assert unknown not in availability.interviewers


async def test_loader_refuses_a_range_that_ends_before_it_starts(
    scheduler_http: Running,
) -> None:
    with pytest.raises(ValueError, match="end must be after start"):
        await load(
            scheduler_http,
            interviewer_ids=[uuid.uuid4()],
            room_ids=[],
            start=utc(2026, 3, 9),
            end=utc(2026, 3, 8),
        )


async def test_loader_reads_new_york_working_hours_across_the_dst_switch(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    await insert_calendar(db, "us-none")
    interviewer = await insert_interviewer(
        db, time_zone="America/New_York", working_hours=EVERY_DAY_9_TO_6, calendar_id="us-none"
    )

    availability = await load(
        scheduler_http,
        interviewer_ids=[interviewer],
        room_ids=[],
        start=utc(2026, 3, 7),
        end=utc(2026, 3, 10),
    )

    assert [end - start for start, end in availability.free[interviewer]] == [
        timedelta(hours=9)
    ] * 3
    assert availability.free[interviewer][1] == (utc(2026, 3, 8, 13), utc(2026, 3, 8, 22))


async def test_loader_keeps_microsecond_ends_exact_far_ahead_and_alike_resources_apart(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    # 2150: epoch microseconds beyond float8's 53 bits; alike resources share working time.
    far_monday = date(2150, 3, 2)
    await insert_calendar(db, "weekends-only")
    busy = await insert_interviewer(db, calendar_id="weekends-only")
    idle = await insert_interviewer(db, calendar_id="weekends-only")
    room = await insert_room(db, calendar_id="weekends-only")
    other_room = await insert_room(db, calendar_id="weekends-only")
    odd = timedelta(seconds=7, microseconds=654_321)
    block_start = at_local(far_monday, 10, 0, SH) + odd
    block_end = at_local(far_monday, 11, 0, SH) + odd
    await insert_busy_block(db, busy, block_start, block_end)
    # A block unbounded on the left: busy from any time until its end.
    await db.execute(
        """INSERT INTO scheduler.busy_blocks (id, resource_kind, resource_id, during, source,
                                              created_at)
           VALUES ($1, 'room', $2, tstzrange(NULL, $3), 'api', now())""",
        uuid.uuid4(),
        room,
        block_end,
    )
    start = at_local(far_monday, 0, 0, SH) + timedelta(microseconds=1)
    end = at_local(far_monday, 23, 0, SH)

    availability = await load(
        scheduler_http,
        interviewer_ids=[busy, idle],
        room_ids=[room, other_room],
        start=start,
        end=end,
    )

    working = availability.free[idle]
    assert working[0][0] == at_local(far_monday, 9, 0, SH)
    assert working[-1][1] == at_local(far_monday, 18, 0, SH)
    assert availability.free[busy] == subtract(working, [(block_start, block_end)])
    assert (block_start, block_end) in zip(
        [end for _, end in availability.free[busy]],
        [start for start, _ in availability.free[busy]][1:],
        strict=False,
    )
    assert availability.free[room] == [(block_end, end)]
    assert availability.free[other_room] == [(start, end)]
