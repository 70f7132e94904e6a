"""What a proposal asks for, and what comes back: plain data for ``matching.propose``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Literal

RoomKind = Literal["rooms", "capacity", "remote"]

# Constraints a candidate start can be refused for, in the order they are checked: a start is
# counted once, under the first one it fails.
REFUSALS: tuple[str, ...] = (
    "min_notice",
    "outside_candidate_windows",
    "interviewer_busy",
    "daily_cap",
    "weekly_cap",
    "pool_short",
    "no_room_free",
)


@dataclass(frozen=True, slots=True)
class PoolRequirement:
    """``k`` interviewers out of ``member_ids`` (e.g. 1 of the 6 Java engineers)."""

    member_ids: tuple[uuid.UUID, ...]
    k: int
    pool_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class RoomRequirement:
    """``rooms``: any of ``room_ids``; ``capacity``: any room of the availability holding at
    least ``min_capacity`` people; ``remote``: no room."""

    kind: RoomKind = "remote"
    room_ids: tuple[uuid.UUID, ...] = ()
    min_capacity: int | None = None


@dataclass(frozen=True, slots=True)
class CandidateWindow:
    """A window the candidate prefers, in the candidate's local time, on the given ISO
    weekdays (1 = Monday; empty: every day). ``end`` may be ``00:00`` for midnight."""

    start: time
    end: time
    weekdays: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SlotRequest:
    interviewer_ids: tuple[uuid.UUID, ...]
    duration_minutes: int
    # The interview lies within [earliest, latest].
    earliest: datetime
    latest: datetime
    time_zone: str
    pools: tuple[PoolRequirement, ...] = ()
    room: RoomRequirement = field(default_factory=RoomRequirement)
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0
    step_minutes: int = 30
    windows: tuple[CandidateWindow, ...] = ()
    # False: windows are a preference (scored); True: starts outside them are refused.
    windows_required: bool = False
    count: int = 3
    spread_days: bool = False


@dataclass(frozen=True, slots=True)
class Reason:
    factor: str  # candidate_preference | time_of_day | load_balance | earliness
    weight: float
    score: float
    note: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    starts_at: datetime
    ends_at: datetime
    interviewer_ids: tuple[uuid.UUID, ...]
    room_id: uuid.UUID | None
    score: float
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Diagnostics:
    """How many candidate start times were considered, how many fit, and how many were
    refused per constraint (each under the first it failed), with a sentence saying so."""

    considered: int
    feasible: int
    refused: dict[str, int]
    message: str


@dataclass(frozen=True, slots=True)
class ProposalResult:
    suggestions: tuple[Suggestion, ...]
    diagnostics: Diagnostics
