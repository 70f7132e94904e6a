"""China's business calendar: holidays and make-up workdays, overrides, and due dates counted in
business days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.calendar import BUNDLED_YEARS, CHINA, END_OF_DAY, BusinessCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def end_of(day: date) -> datetime:
    return datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI)


# Known dates


def test_spring_festival_2026_is_off_and_its_make_up_saturdays_are_workdays() -> None:
    festival = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]  # 15th .. 23rd

    assert [CHINA.is_workday(day) for day in festival] == [False] * 9
    assert CHINA.is_workday(date(2026, 2, 14))  # a Saturday, made up
    assert CHINA.is_workday(date(2026, 2, 28))  # a Saturday, made up
    assert CHINA.is_workday(date(2026, 2, 24))  # back to work on Tuesday


def test_national_day_week_2026_is_off_and_its_make_up_days_are_workdays() -> None:
    golden_week = [date(2026, 10, 1) + timedelta(days=i) for i in range(7)]

    assert not any(CHINA.is_workday(day) for day in golden_week)
    assert CHINA.is_workday(date(2026, 9, 20))  # a Sunday, made up
    assert CHINA.is_workday(date(2026, 10, 10))  # a Saturday, made up


def test_ordinary_weekend_is_off_and_weekdays_are_workdays() -> None:
    assert not CHINA.is_workday(date(2026, 3, 7))  # Saturday
    assert not CHINA.is_workday(date(2026, 3, 8))  # Sunday
    assert all(CHINA.is_workday(date(2026, 3, d)) for d in range(9, 14))


def test_stage_entered_friday_evening_with_one_day_is_due_at_the_end_of_monday() -> None:
    friday_evening = at(date(2026, 3, 13), 21, 30)

    assert CHINA.add_business_days(friday_evening, 1) == end_of(date(2026, 3, 16))


def test_the_day_of_entry_never_counts_whatever_the_hour() -> None:
    monday = date(2026, 3, 9)

    assert CHINA.add_business_days(at(monday, 0, 1), 1) == end_of(date(2026, 3, 10))
    assert CHINA.add_business_days(at(monday, 23, 59), 1) == end_of(date(2026, 3, 10))


def test_national_day_week_is_skipped() -> None:
    # Wednesday 30 September 2026; 1-7 October are off.
    assert CHINA.add_business_days(at(date(2026, 9, 30)), 1) == end_of(date(2026, 10, 8))
    assert CHINA.add_business_days(at(date(2026, 9, 30)), 2) == end_of(date(2026, 10, 9))


def test_make_up_saturday_counts_as_a_business_day() -> None:
    # Friday 9 October 2026, then the make-up Saturday the 10th.
    assert CHINA.add_business_days(at(date(2026, 10, 9)), 1) == end_of(date(2026, 10, 10))


def test_spring_festival_is_skipped_and_the_make_up_saturday_counts() -> None:
    friday = date(2026, 2, 13)

    assert CHINA.add_business_days(at(friday), 1) == end_of(date(2026, 2, 14))
    assert CHINA.add_business_days(at(friday), 2) == end_of(date(2026, 2, 24))


def test_start_is_taken_as_its_date_in_the_given_zone() -> None:
    # 17:00 UTC on Friday is already Saturday 01:00 in Shanghai.
    friday_utc = datetime(2026, 3, 13, 17, 0, tzinfo=UTC)

    assert CHINA.add_business_days(friday_utc, 1) == end_of(date(2026, 3, 16))
    in_utc = CHINA.add_business_days(friday_utc, 1, tz="UTC")
    assert in_utc == datetime.combine(date(2026, 3, 16), END_OF_DAY, tzinfo=ZoneInfo("UTC"))


def test_zero_days_is_the_end_of_the_same_workday_or_of_the_next_one() -> None:
    assert CHINA.add_business_days(at(date(2026, 3, 9)), 0) == end_of(date(2026, 3, 9))
    assert CHINA.add_business_days(at(date(2026, 3, 7)), 0) == end_of(date(2026, 3, 9))


def test_naive_start_and_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CHINA.add_business_days(datetime(2026, 3, 9, 12), 1)
    with pytest.raises(ValueError, match="between"):
        CHINA.add_business_days(at(date(2026, 3, 9)), -1)


def test_business_days_between_counts_workdays_after_start_up_to_end() -> None:
    assert CHINA.business_days_between(date(2026, 9, 30), date(2026, 10, 9)) == 2
    assert CHINA.business_days_between(date(2026, 10, 9), date(2026, 9, 30)) == -2
    assert CHINA.business_days_between(date(2026, 3, 9), date(2026, 3, 9)) == 0


# Years the bundled calendar does not know


def test_a_year_the_bundle_does_not_know_has_weekends_only_and_says_so() -> None:
    unknown = max(BUNDLED_YEARS) + 1
    new_year = date(unknown, 1, 1)

    assert not CHINA.knows(unknown)
    assert CHINA.knows(2026)
    assert CHINA.is_workday(new_year) == (new_year.weekday() < 5)
    assert CHINA.unknown_years(date(2026, 12, 30), date(unknown, 1, 2)) == [unknown]


def test_overrides_win_over_the_bundled_calendar() -> None:
    calendar = BusinessCalendar(
        {date(2026, 3, 9): "holiday", date(2026, 3, 7): "workday", date(2026, 10, 8): "holiday"}
    )

    assert not calendar.is_workday(date(2026, 3, 9))
    assert calendar.is_workday(date(2026, 3, 7))
    assert calendar.add_business_days(at(date(2026, 9, 30)), 1) == end_of(date(2026, 10, 9))


def test_holidays_entered_for_an_unknown_year_make_it_known() -> None:
    unknown = max(BUNDLED_YEARS) + 1
    calendar = BusinessCalendar({date(unknown, 1, 1): "holiday"})

    assert calendar.knows(unknown)
    assert not calendar.is_workday(date(unknown, 1, 1))
    assert not BusinessCalendar({date(unknown, 1, 2): "workday"}).knows(unknown)


# Properties

days_ = st.dates(min_value=date(2004, 1, 1), max_value=date(max(BUNDLED_YEARS) + 2, 12, 31))
instants = st.datetimes(
    min_value=datetime(2004, 1, 2), max_value=datetime(max(BUNDLED_YEARS) + 2, 12, 1)
).map(lambda naive: naive.replace(tzinfo=UTC))
counts = st.integers(min_value=0, max_value=60)
overrides = st.dictionaries(days_, st.sampled_from(["holiday", "workday"]), max_size=20)


@given(start=instants, days=counts, extra=overrides)
def test_due_moment_is_always_the_end_of_a_workday(
    start: datetime, days: int, extra: dict[date, str]
) -> None:
    calendar = BusinessCalendar(extra)  # type: ignore[arg-type]

    due = calendar.add_business_days(start, days)

    assert due.timetz().replace(tzinfo=None) == END_OF_DAY
    assert calendar.is_workday(due.date())
    assert due > start


@given(start=instants, days=counts)
def test_one_more_business_day_is_due_later(start: datetime, days: int) -> None:
    fewer, more = CHINA.add_business_days(start, days), CHINA.add_business_days(start, days + 1)

    # 0 and 1 both land on the next workday when the start day is not one.
    assert (
        more > fewer
        if days >= 1 or CHINA.is_workday(start.astimezone(SHANGHAI).date())
        else (more == fewer)
    )


@given(earlier=instants, gap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)))
def test_a_later_start_never_gives_an_earlier_due_moment(earlier: datetime, gap: timedelta) -> None:
    assert CHINA.add_business_days(earlier + gap, 3) >= CHINA.add_business_days(earlier, 3)


@given(start=days_, days=st.integers(min_value=1, max_value=60))
def test_counting_back_the_business_days_gives_the_same_number(start: date, days: int) -> None:
    due = CHINA.add_workdays(start, days)

    assert CHINA.business_days_between(start, due) == days
    assert (due - start).days >= days


@given(start=days_, days=st.integers(min_value=1, max_value=60))
def test_adding_one_by_one_is_the_same_as_adding_all_at_once(start: date, days: int) -> None:
    stepwise = start
    for _ in range(days):
        stepwise = CHINA.add_workdays(stepwise, 1)

    assert stepwise == CHINA.add_workdays(start, days)


# Hours counted on workdays


def _workday_hours(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """How much of [start, end) falls on workdays in Shanghai, day by day (the reference)."""
    total = timedelta()
    day = start.astimezone(SHANGHAI).date()
    while datetime.combine(day, time(0), tzinfo=SHANGHAI) < end:
        if calendar.is_workday(day):
            day_start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
            day_end = day_start + timedelta(days=1)
            overlap = min(end, day_end) - max(start, day_start)
            total += max(overlap, timedelta())
        day += timedelta(days=1)
    return total


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (at(date(2026, 3, 6), 15), 24, at(date(2026, 3, 9), 15)),  # Friday -> Monday
        (at(date(2026, 3, 7), 10), 8, at(date(2026, 3, 9), 8)),  # from a Saturday: Monday's 0:00
        (at(date(2026, 9, 30), 20), 8, at(date(2026, 10, 8), 4)),  # over National Day week
        (at(date(2026, 10, 9), 12), 24, at(date(2026, 10, 10), 12)),  # a make-up Saturday counts
        (at(date(2026, 3, 9), 9), 0, at(date(2026, 3, 9), 9)),
        (at(date(2026, 3, 7), 10), 0, at(date(2026, 3, 7), 10)),  # nothing to count
    ],
)
def test_hours_count_only_on_workdays(start: datetime, hours: int, due: datetime) -> None:
    assert CHINA.add_business_hours(start, hours) == due


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(min_value=1, max_value=720),
)
def test_business_hours_are_exactly_the_workday_time_between_start_and_due(
    start: datetime, hours: int
) -> None:
    due = CHINA.add_business_hours(start, hours)

    assert _workday_hours(CHINA, start, due) == timedelta(hours=hours)
    assert due >= start + timedelta(hours=hours)
    # The due moment ends workday time: the instant before it is on a workday.
    assert CHINA.is_workday((due - timedelta(microseconds=1)).astimezone(SHANGHAI).date())


def test_business_hours_refuse_a_naive_start_or_a_negative_count() -> None:
    with pytest.raises(ValueError, match="aware"):
        CHINA.add_business_hours(datetime(2026, 3, 9, 9), 1)
    with pytest.raises(ValueError, match="hours"):
        CHINA.add_business_hours(at(date(2026, 3, 9)), -1)
