"""The engagement score: how readily a person answers us, as a number from 0 to 100 with the
parts it is made of, so HR can see why. A plain function of a profile's counters and the date.

Parts, each from 0 to 1:

- ``response_rate``: invitations they responded to (opened, started, booked, asked for another
  time...) out of those they got;
- ``response_speed``: from the mean time between an invitation and their first response: 1.0
  within an hour, 0.0 at a week or more, falling with the logarithm of the time in between
  (a reply after 4 hours scores about 0.73, after a day 0.38);
- ``completion``: invitations they saw through (an AI interview completed, an interview booked)
  out of those they got;
- ``recency``: 1.0 when they were last active today, falling linearly to 0.0 at 180 days.

The score is ``100 * (0.35 response_rate + 0.15 response_speed + 0.30 completion
+ 0.20 recency)``, rounded. Someone never invited has no rate, speed or completion (``None``):
each counts as 0.5 in the score, "no evidence" being neither good nor bad. Parts are rounded to
three decimals before the score is taken, so the score is what the parts shown add up to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

WEIGHTS: dict[str, float] = {
    "response_rate": 0.35,
    "response_speed": 0.15,
    "completion": 0.30,
    "recency": 0.20,
}
UNKNOWN = 0.5
FAST_S = 3600.0
SLOW_S = 7 * 24 * 3600.0
RECENCY_DAYS = 180


@dataclass(frozen=True)
class Counters:
    """What the score is computed from (a profile's columns of the same names)."""

    invited: int = 0
    responded: int = 0
    completed: int = 0
    response_seconds_total: int = 0
    responses_timed: int = 0
    last_activity_at: datetime | None = None


@dataclass(frozen=True)
class Engagement:
    score: int
    response_rate: float | None
    response_speed: float | None
    completion: float | None
    recency: float

    def parts(self) -> dict[str, Any]:
        """The parts as stored with the profile and shown by the API."""
        return {
            "response_rate": self.response_rate,
            "response_speed": self.response_speed,
            "completion": self.completion,
            "recency": self.recency,
        }


def _ratio(part: int, whole: int) -> float | None:
    if whole <= 0:
        return None
    return round(min(1.0, max(0.0, part / whole)), 3)


def response_speed(mean_seconds: float) -> float:
    """1.0 within an hour, 0.0 at a week or more, logarithmic in between."""
    if mean_seconds <= FAST_S:
        return 1.0
    if mean_seconds >= SLOW_S:
        return 0.0
    return 1.0 - math.log(mean_seconds / FAST_S) / math.log(SLOW_S / FAST_S)


def recency(last_activity_at: datetime | None, now: datetime) -> float:
    """1.0 when active today (by UTC date), 0.0 at ``RECENCY_DAYS`` days or more."""
    if last_activity_at is None:
        return 0.0
    days = max(0, (now.date() - last_activity_at.astimezone(now.tzinfo).date()).days)
    return max(0.0, 1.0 - days / RECENCY_DAYS)


def engagement(counters: Counters, *, now: datetime) -> Engagement:
    """The score and its parts for these counters on ``now``'s day."""
    speed: float | None = None
    if counters.responses_timed > 0:
        mean = max(0, counters.response_seconds_total) / counters.responses_timed
        speed = round(response_speed(mean), 3)
    parts: dict[str, float | None] = {
        "response_rate": _ratio(counters.responded, counters.invited),
        "response_speed": speed,
        "completion": _ratio(counters.completed, counters.invited),
        "recency": round(recency(counters.last_activity_at, now), 3),
    }
    total = sum(
        WEIGHTS[name] * (UNKNOWN if value is None else value) for name, value in parts.items()
    )
    return Engagement(
        score=max(0, min(100, round(100 * total))),
        response_rate=parts["response_rate"],
        response_speed=parts["response_speed"],
        completion=parts["completion"],
        recency=parts["recency"] or 0.0,
    )
