"""Business days in China: weekends, the State Council's public holidays and their make-up
workdays (调休), with explicit per-day overrides on top.

The holidays come from ``chinese_calendar`` for the years it knows (``BUNDLED_YEARS``). For any
other year the calendar falls back to "Monday to Friday are workdays" and says so
(``knows(year)`` is false), unless overrides give that year's holidays.

The rule of ``add_business_days(start, n)``: take the calendar date of ``start`` in the given
time zone; the due moment is the end (23:59:59) of the n-th workday *after* that date. The day
of ``start`` itself never counts, whatever the hour, so a stage entered on a Friday (morning or
evening) with n = 1 is due at the end of Monday; non-workdays (weekends, the National Day week)
are skipped; a make-up Saturday counts. With n = 0 the due moment is the end of the start day
if it is a workday, otherwise the end of the next workday.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar

DayKind = Literal["holiday", "workday"]
# cn: China's State Council calendar underneath the overrides; weekends: only Saturday and
# Sunday are off, and the overrides alone give holidays and make-up workdays.
CalendarBase = Literal["cn", "weekends"]

DEFAULT_TZ = "Asia/Shanghai"
# A day's last second: what "the end of the business day" means.
END_OF_DAY = time(23, 59, 59)
# Stage SLAs are at most a year of business days; refusing more keeps a mistake from looping.
MAX_BUSINESS_DAYS = 3650

_HOLIDAYS: Mapping[date, object] = chinese_calendar.constants.holidays
_WORKDAYS: Mapping[date, object] = chinese_calendar.constants.workdays
BUNDLED_YEARS = range(min(day.year for day in _HOLIDAYS), max(day.year for day in _HOLIDAYS) + 1)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class BusinessCalendar:
    """Which days are workdays, and due dates counted in them. Immutable and cheap to query."""

    def __init__(
        self, overrides: Mapping[date, DayKind] | None = None, *, base: CalendarBase = "cn"
    ) -> None:
        self._overrides: dict[date, DayKind] = dict(overrides or {})
        self._base: CalendarBase = base
        # Years for which an administrator entered holidays: treated as known.
        self._override_years = frozenset(
            day.year for day, kind in self._overrides.items() if kind == "holiday"
        )

    @property
    def overrides(self) -> Mapping[date, DayKind]:
        return dict(self._overrides)

    @property
    def base(self) -> CalendarBase:
        return self._base

    def _bundled(self, year: int) -> bool:
        return self._base == "cn" and year in BUNDLED_YEARS

    def knows(self, year: int) -> bool:
        """Whether the official holidays of ``year`` are known (bundled, or entered as overrides);
        if not, only weekends are days off that year."""
        return self._bundled(year) or year in self._override_years

    def is_workday(self, day: date) -> bool:
        kind = self._overrides.get(day)
        if kind is not None:
            return kind == "workday"
        if self._bundled(day.year):
            if day in _HOLIDAYS:
                return False
            if day in _WORKDAYS:
                return True
        return day.weekday() < 5

    def is_holiday(self, day: date) -> bool:
        """Whether ``day`` is a day off other than an ordinary weekend: a public holiday (even
        one falling on a weekend) or a day an override marks as a holiday."""
        kind = self._overrides.get(day)
        if kind is not None:
            return kind == "holiday"
        return self._bundled(day.year) and day in _HOLIDAYS

    def is_makeup_workday(self, day: date) -> bool:
        """Whether ``day`` is a Saturday or Sunday that is worked (China's 调休)."""
        return day.weekday() >= 5 and self.is_workday(day)

    def next_workday(self, day: date) -> date:
        """The first workday strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def add_workdays(self, day: date, days: int) -> date:
        """The ``days``-th workday after ``day`` (``days`` = 0: ``day`` itself if it is a
        workday, else the next one)."""
        if days < 0 or days > MAX_BUSINESS_DAYS:
            raise ValueError(f"days must be between 0 and {MAX_BUSINESS_DAYS}")
        if days == 0:
            return day if self.is_workday(day) else self.next_workday(day)
        for _ in range(days):
            day = self.next_workday(day)
        return day

    def add_business_days(self, start: datetime, days: int, tz: str = DEFAULT_TZ) -> datetime:
        """The end of the ``days``-th workday after ``start``'s date in ``tz`` (see the module
        docstring for the exact rule), as an aware datetime in ``tz``."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        zone = _zone(tz)
        local_day = start.astimezone(zone).date()
        return datetime.combine(self.add_workdays(local_day, days), END_OF_DAY, tzinfo=zone)

    def add_business_hours(self, start: datetime, hours: int, tz: str = DEFAULT_TZ) -> datetime:
        """The moment ``hours`` hours after ``start`` counting only time on workdays in ``tz``
        (whole days, midnight to midnight): weekends and holidays do not count, a make-up
        Saturday does. From a day off, counting begins at the next workday's midnight. An SLA of
        24 hours begun on a Friday at 15:00 is due on Monday at 15:00; zero hours is ``start``."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if hours < 0 or hours > 24 * MAX_BUSINESS_DAYS:
            raise ValueError(f"hours must be between 0 and {24 * MAX_BUSINESS_DAYS}")
        zone = _zone(tz)
        moment = start.astimezone(zone)
        if hours == 0:  # nothing to count, even from a day off (or the midnight ending a workday)
            return moment
        day = moment.date()
        if not self.is_workday(day):
            day = self.next_workday(day)
            moment = datetime.combine(day, time(0), tzinfo=zone)
        left = timedelta(hours=hours)
        while True:
            # Differences taken in UTC, so a day with a clock change has its real length.
            day_ends = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
            available = day_ends.astimezone(UTC) - moment.astimezone(UTC)
            if left <= available:
                return (moment.astimezone(UTC) + left).astimezone(zone)
            left -= available
            day = self.next_workday(day)
            moment = datetime.combine(day, time(0), tzinfo=zone)

    def business_days_between(self, start: date, end: date) -> int:
        """The number of workdays in (``start``, ``end``]; negative when ``end`` is before
        ``start``. The inverse of ``add_workdays``: ``between(d, add_workdays(d, n)) == n``
        for n >= 1."""
        if end < start:
            return -self.business_days_between(end, start)
        count = 0
        day = start + timedelta(days=1)
        while day <= end:
            if self.is_workday(day):
                count += 1
            day += timedelta(days=1)
        return count

    def unknown_years(self, start: date, end: date) -> list[int]:
        """Years between the two dates (inclusive) whose holidays the calendar does not know."""
        low, high = min(start, end).year, max(start, end).year
        return [year for year in range(low, high + 1) if not self.knows(year)]


CHINA = BusinessCalendar()
"""China's calendar without overrides."""
