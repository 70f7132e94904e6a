"""Quiet hours: when a message that may not disturb now may be sent. Pure functions."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def quiet_until(now: datetime, *, start: time, end: time, time_zone: str) -> datetime | None:
    """The end of the quiet window ``now`` falls in (in the recipient's zone), or None when
    ``now`` is outside it. A window may wrap midnight (22:00-08:00); start == end means none."""
    if start == end:
        return None
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    # Wall-clock end in the zone (fold=0: the first of an ambiguous hour); a gap is skipped
    # forward by normalizing through UTC.
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(now.tzinfo)
