"""The pure parts: iCalendar rendering round-trips through ``icalendar``, and the reminder
plan keeps its promises across daylight-saving changes (property-tested)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.interviews import reminders
from shared import ics

ZONES = ["America/New_York", "Europe/London", "Asia/Shanghai", "Australia/Sydney", "UTC"]


def _interview(**overrides: object) -> ics.CalendarInterview:
    values: dict[str, object] = {
        "uid": "abc@recruiting-scheduler",
        "sequence": 3,
        "starts_at": datetime(2026, 11, 1, 13, 30, tzinfo=UTC),
        "ends_at": datetime(2026, 11, 1, 14, 30, tzinfo=UTC),
        "stamp": datetime(2026, 10, 1, tzinfo=UTC),
        "summary": 'Interview: Backend engineer; round 2, "final"',
        "cancelled": False,
        "confirmed": True,
        "time_zone": "America/New_York",
        "location": "Remote",
        "attendees": [ics.Attendee(uri="urn:uuid:1", name="Ivan, Petrov", status="ACCEPTED")],
        **overrides,
    }
    return ics.CalendarInterview(**values)  # type: ignore[arg-type]


def test_a_rendered_interview_reads_back_the_same() -> None:
    calendar: Any = icalendar.Calendar.from_ical(ics.render(_interview()))
    [event] = calendar.walk("VEVENT")

    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(calendar["PRODID"]) == ics.PRODID
    assert str(event["UID"]) == "abc@recruiting-scheduler"
    assert int(event["SEQUENCE"]) == 3
    assert event.decoded("DTSTART") == datetime(2026, 11, 1, 13, 30, tzinfo=UTC)
    assert event.decoded("DTSTAMP") == datetime(2026, 10, 1, tzinfo=UTC)
    assert str(event["SUMMARY"]) == 'Interview: Backend engineer; round 2, "final"'
    assert str(event["STATUS"]) == "CONFIRMED"
    # The day New York falls back (02:00 EDT becomes 01:00 EST): 13:30 UTC is 08:30 EST.
    assert "2026-11-01 08:30-09:30 America/New_York (UTC-0500)" in str(event["DESCRIPTION"])
    [attendee] = [event["ATTENDEE"]]
    assert str(attendee.params["CN"]) == "Ivan, Petrov"
    assert str(attendee.params["PARTSTAT"]) == "ACCEPTED"


def test_a_cancelled_interview_is_a_cancel() -> None:
    calendar: Any = icalendar.Calendar.from_ical(ics.render(_interview(cancelled=True)))
    [event] = calendar.walk("VEVENT")

    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"


def test_reminder_names() -> None:
    assert reminders.reminder_name(1440) == "before_1d"
    assert reminders.reminder_name(120) == "before_2h"
    assert reminders.reminder_name(45) == "before_45m"


def test_a_day_before_across_the_fall_back_is_25_hours() -> None:
    # Sunday 1 November 2026, 10:00 EST; New York fell back at 02:00 that morning, so
    # Saturday 10:00 was still EDT.
    start = datetime(2026, 11, 1, 15, 0, tzinfo=UTC)
    due = reminders.due_at(start, 1440, "America/New_York")
    assert start - due == timedelta(hours=25)
    assert due.astimezone(ZoneInfo("America/New_York")).hour == 10


moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(
    start=moments,
    zone=st.sampled_from(ZONES),
    offsets=st.lists(st.integers(min_value=1, max_value=7 * 1440), max_size=4),
    lead=st.integers(min_value=0, max_value=10 * 1440),
)
def test_the_plan_is_future_before_the_start_and_keeps_its_offsets(
    start: datetime, zone: str, offsets: list[int], lead: int
) -> None:
    now = start - timedelta(minutes=lead)
    planned = reminders.plan(starts_at=start, minutes_before=offsets, time_zone=zone, now=now)

    assert planned == sorted(planned)
    assert len({p.name for p in planned}) == len(planned)
    tz = ZoneInfo(zone)
    for reminder in planned:
        assert now < reminder.due_at < start
        if reminder.minutes_before % 1440:
            assert start - reminder.due_at == timedelta(minutes=reminder.minutes_before)
        else:
            # Whole days: the same wall-clock time that many days earlier, unless that time
            # does not exist there (a spring-forward gap).
            days = reminder.minutes_before // 1440
            wall = start.astimezone(tz).replace(tzinfo=None) - timedelta(days=days)
            local = reminder.due_at.astimezone(tz).replace(tzinfo=None)
            exists = (
                wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall
            )
            if exists:
                assert local == wall
            assert abs((start - reminder.due_at) - timedelta(days=days)) <= timedelta(hours=1)
    wanted = {reminders.reminder_name(m) for m in offsets}
    for name in wanted - {p.name for p in planned}:
        minutes = next(m for m in offsets if reminders.reminder_name(m) == name)
        assert reminders.due_at(start, minutes, zone) <= now
