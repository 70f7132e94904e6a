"""The candidate's own window as proposal requests: the window itself, or the nearest
alternatives around it. Pure functions over the slot algorithm's request."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.slots.request import CandidateWindow, SlotRequest

# Alternatives are looked for this far on either side of the window.
AROUND = timedelta(days=7)


def inside(request: SlotRequest, *, starts_at: datetime, ends_at: datetime) -> SlotRequest:
    """The same interview, only within the window."""
    return replace(request, earliest=starts_at, latest=ends_at, windows=(), windows_required=False)


def around(
    request: SlotRequest,
    *,
    starts_at: datetime,
    ends_at: datetime,
    time_zone: str,
    now: datetime,
) -> SlotRequest:
    """The same interview within a week of the window, preferring the window's time of day in
    the candidate's zone (the algorithm scores that preference) and spread over days, so the
    alternatives are the nearest in time of day and date."""
    zone = ZoneInfo(time_zone)
    local_start, local_end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    preferred: tuple[CandidateWindow, ...] = ()
    if local_start.date() == local_end.date() and local_start.time() < local_end.time():
        preferred = (CandidateWindow(start=local_start.time(), end=local_end.time()),)
    return replace(
        request,
        earliest=max(now, starts_at - AROUND),
        latest=ends_at + AROUND,
        time_zone=time_zone,
        windows=preferred,
        windows_required=False,
        spread_days=True,
    )
