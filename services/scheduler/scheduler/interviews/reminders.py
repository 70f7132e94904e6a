"""When to remind people of an interview: a pure plan from the start, the configured offsets and
the present moment.

An offset of whole days is counted on the wall clock of the interview's time zone, so a reminder
"1 day before" a 10:00 interview comes at 10:00 the day before even when a daylight-saving
change lies between (23 or 25 hours earlier); a wall time that falls into a spring-forward gap is
read with the offset before the gap. Any other offset is elapsed time ("2 hours before" is
120 minutes before, whatever the clock does). A reminder whose time is not after ``now`` is left
out: it would arrive late, or after the interview.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, order=True)
class PlannedReminder:
    due_at: datetime
    name: str
    minutes_before: int


def reminder_name(minutes_before: int) -> str:
    """``before_1d``, ``before_2h``, ``before_45m``: the reminder's stable name."""
    if minutes_before % MINUTES_PER_DAY == 0:
        return f"before_{minutes_before // MINUTES_PER_DAY}d"
    if minutes_before % 60 == 0:
        return f"before_{minutes_before // 60}h"
    return f"before_{minutes_before}m"


def due_at(starts_at: datetime, minutes_before: int, time_zone: str) -> datetime:
    """The moment of one reminder, in UTC."""
    if starts_at.tzinfo is None:
        raise ValueError("starts_at must be timezone-aware")
    if minutes_before % MINUTES_PER_DAY == 0:
        zone = ZoneInfo(time_zone)
        local = starts_at.astimezone(zone).replace(tzinfo=None)
        earlier = local - timedelta(days=minutes_before // MINUTES_PER_DAY)
        # fold=0: an ambiguous wall time is its first occurrence; one in a gap is read with
        # the offset before the gap.
        return earlier.replace(tzinfo=zone, fold=0).astimezone(UTC)
    return (starts_at - timedelta(minutes=minutes_before)).astimezone(UTC)


def plan(
    *, starts_at: datetime, minutes_before: list[int], time_zone: str, now: datetime
) -> list[PlannedReminder]:
    """The reminders still to send for an interview starting at ``starts_at``, earliest first."""
    planned = {
        reminder_name(minutes): PlannedReminder(
            due_at(starts_at, minutes, time_zone), reminder_name(minutes), minutes
        )
        for minutes in minutes_before
        if minutes > 0
    }
    return sorted(r for r in planned.values() if now < r.due_at < starts_at)
