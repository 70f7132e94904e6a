"""The built-in China calendar as two short lists the SLA query joins against: weekdays that
are holidays and weekend days that are make-up workdays. The database adds its own overrides
(``calendar_days``) on top and treats every other Monday to Friday as a workday."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from shared.calendar import BUNDLED_YEARS, CHINA, BusinessCalendar


def exceptions(
    calendar: BusinessCalendar, first: date, last: date
) -> tuple[list[date], list[date]]:
    """(weekday holidays, weekend workdays) of ``calendar`` between the two dates, inclusive."""
    holidays: list[date] = []
    workdays: list[date] = []
    day = first
    while day <= last:
        weekday = day.weekday() < 5
        if calendar.is_workday(day) != weekday:
            (holidays if weekday else workdays).append(day)
        day += timedelta(days=1)
    return holidays, workdays


@lru_cache(maxsize=1)
def bundled_exceptions() -> tuple[list[date], list[date]]:
    """The exceptions of every year the bundled calendar knows (a few hundred days, computed
    once per process)."""
    return exceptions(CHINA, date(BUNDLED_YEARS.start, 1, 1), date(BUNDLED_YEARS.stop - 1, 12, 31))


def unknown_years(first: date, last: date) -> list[int]:
    """Years in the range whose official holidays the bundled calendar does not know."""
    return CHINA.unknown_years(first, last)
