"""What the slot algorithm reads about the resources, as protocols: the shape of
``scheduler.availability.Availability`` (built by ``load_availability``), without importing the
database code, so the algorithm stays plain and tests and benchmarks can hand it plain data.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Protocol

FreeInterval = tuple[datetime, datetime]


class InterviewerFacts(Protocol):
    @property
    def time_zone(self) -> str: ...
    @property
    def max_per_day(self) -> int | None: ...
    @property
    def max_per_week(self) -> int | None: ...


class RoomFacts(Protocol):
    @property
    def time_zone(self) -> str: ...
    @property
    def capacity(self) -> int: ...


class AvailabilityData(Protocol):
    """``free[id]``: half-open aware intervals of every interviewer and room (any order);
    ``booked_per_day[id][local date]`` and ``booked_per_week[id][(iso_year, iso_week)]``: an
    interviewer's interviews by the local date of their start in the interviewer's zone. A
    resource missing from ``interviewers``/``rooms`` is treated as never free."""

    @property
    def free(self) -> Mapping[uuid.UUID, Sequence[FreeInterval]]: ...
    @property
    def interviewers(self) -> Mapping[uuid.UUID, InterviewerFacts]: ...
    @property
    def rooms(self) -> Mapping[uuid.UUID, RoomFacts]: ...
    @property
    def booked_per_day(self) -> Mapping[uuid.UUID, Mapping[date, int]]: ...
    @property
    def booked_per_week(self) -> Mapping[uuid.UUID, Mapping[tuple[int, int], int]]: ...
