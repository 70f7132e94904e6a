"""The slot algorithm: a sorted interval sweep over the free time of a panel, its pools and
rooms, giving ranked suggestions and, per constraint, how many start times it refused.

Pure: plain data in (``SlotRequest``, availability, ``now``), plain data out. Times are
integer epoch seconds inside; start times step through the candidate's local wall clock, so a
DST switch moves them in UTC but never off the grid.
"""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.slots.availability import AvailabilityData, FreeInterval
from scheduler.slots.intervals import (
    Spans,
    at_least,
    intersect,
    normalise,
    starts_within,
    subtract,
)
from scheduler.slots.request import (
    REFUSALS,
    Diagnostics,
    ProposalResult,
    Reason,
    SlotRequest,
    Suggestion,
)
from scheduler.slots.zones import DAY, EPOCH_ORDINAL, ZoneOffsets, days_between, from_seconds

FOREVER = 2**62
# Without a cap, load is measured against these (a busy interviewer's day and week).
USUAL_PER_DAY = 4
USUAL_PER_WEEK = 15
WEIGHTS = {"candidate_preference": 0.4, "time_of_day": 0.2, "load_balance": 0.2, "earliness": 0.2}

REFUSAL_LABELS = {
    "min_notice": "too soon for the minimum notice (or already past)",
    "outside_candidate_windows": "outside the candidate's windows",
    "interviewer_busy": "a required interviewer was busy or off work",
    "daily_cap": "a required interviewer had reached their daily cap",
    "weekly_cap": "a required interviewer had reached their weekly cap",
    "pool_short": "too few interviewers of a pool were free",
    "no_room_free": "no suitable room was free",
}


def _seconds(value: datetime) -> int:
    return int(value.timestamp())


def free_spans(free: Sequence[FreeInterval]) -> Spans:
    return _checked([(int(a.timestamp()), int(b.timestamp())) for a, b in free])


def _free_of(availability: AvailabilityData, resource_id: uuid.UUID) -> Spans:
    """A resource's free time in epoch seconds: straight from the loader's integers when it
    kept them (``FreeTime.seconds``), else from the datetimes."""
    seconds = getattr(availability.free, "seconds", None)
    if seconds is not None:
        spans = seconds(resource_id)
        if spans is not None:
            return _checked(spans)
    return free_spans(availability.free.get(resource_id, ()))


def _checked(spans: Spans) -> Spans:
    # The loader's lists come sorted and merged: check in one pass instead of sorting.
    previous_end = -FOREVER
    for start, end in spans:
        if start >= end or start <= previous_end:
            return normalise(spans)
        previous_end = end
    return spans


@dataclass(slots=True)
class _Person:
    id: uuid.UUID
    starts: Spans  # feasible starts: free with buffers, not capped
    free_starts: Spans  # feasible starts ignoring caps
    day_capped: Spans
    week_capped: Spans
    max_per_day: int | None
    max_per_week: int | None
    booked_per_day: Mapping[date, int]
    booked_per_week: Mapping[tuple[int, int], int]
    zone: ZoneOffsets | None


@dataclass(slots=True)
class Analysis:
    """The algorithm's view of a request before ranking."""

    considered: int
    refused: dict[str, int]
    feasible: Spans
    segments: list[tuple[int, int, int]]
    step: int
    windows: Spans


class _Zones:
    def __init__(self, start: int, end: int) -> None:
        self._start = start
        self._end = end
        self._cache: dict[str, ZoneOffsets] = {}

    def get(self, name: str) -> ZoneOffsets:
        found = self._cache.get(name)
        if found is None:
            found = self._cache[name] = ZoneOffsets(ZoneInfo(name), self._start, self._end)
        return found


def _aligned_count(
    spans: Sequence[tuple[int, int]], segments: Sequence[tuple[int, int, int]], step: int
) -> int:
    total = 0
    for lo, hi in spans:
        for s_lo, s_hi, offset in segments:
            a = lo if lo > s_lo else s_lo
            b = hi if hi < s_hi else s_hi
            if a >= b:
                continue
            first = a + (-(a + offset)) % step
            if first < b:
                total += (b - 1 - first) // step + 1
    return total


def _aligned(
    spans: Sequence[tuple[int, int]], segments: Sequence[tuple[int, int, int]], step: int
) -> Iterator[tuple[int, int]]:
    """Each aligned start in ``spans``, with its local offset, in increasing order."""
    for lo, hi in spans:
        for s_lo, s_hi, offset in segments:
            a = lo if lo > s_lo else s_lo
            b = hi if hi < s_hi else s_hi
            if a >= b:
                continue
            for at in range(a + (-(a + offset)) % step, b, step):
                yield at, offset


def _capped(
    booked_per_day: Mapping[date, int],
    booked_per_week: Mapping[tuple[int, int], int],
    max_per_day: int | None,
    max_per_week: int | None,
    zone: ZoneOffsets,
) -> tuple[Spans, Spans]:
    """The local days and ISO weeks (as UTC spans) on which a cap is already reached."""
    day: list[tuple[int, int]] = []
    week: list[tuple[int, int]] = []
    if max_per_day is not None:
        for local_day, count in booked_per_day.items():
            if count >= max_per_day:
                day.append(
                    (zone.day_start(local_day), zone.day_start(local_day + timedelta(days=1)))
                )
    if max_per_week is not None:
        for (year, week_number), count in booked_per_week.items():
            if count >= max_per_week:
                monday = date.fromisocalendar(year, week_number, 1)
                week.append((zone.day_start(monday), zone.day_start(monday + timedelta(days=7))))
    return normalise(day), normalise(week)


def _person(
    interviewer_id: uuid.UUID,
    availability: AvailabilityData,
    zones: _Zones,
    before: int,
    length: int,
) -> _Person:
    facts = availability.interviewers.get(interviewer_id)
    if facts is None:
        return _Person(interviewer_id, [], [], [], [], None, None, {}, {}, None)
    zone = zones.get(facts.time_zone)
    free = _free_of(availability, interviewer_id)
    free_starts = starts_within(free, before=before, length=length)
    per_day = availability.booked_per_day.get(interviewer_id, {})
    per_week = availability.booked_per_week.get(interviewer_id, {})
    day_capped, week_capped = _capped(
        per_day, per_week, facts.max_per_day, facts.max_per_week, zone
    )
    starts = subtract(subtract(free_starts, day_capped), week_capped)
    return _Person(
        interviewer_id,
        starts,
        free_starts,
        day_capped,
        week_capped,
        facts.max_per_day,
        facts.max_per_week,
        per_day,
        per_week,
        zone,
    )


def _window_spans(request: SlotRequest, zone: ZoneOffsets, lo: int, hi: int, length: int) -> Spans:
    """Starts whose interview lies inside one of the candidate's windows."""
    if not request.windows:
        return []
    first = zone.day_of(lo) - timedelta(days=1)
    last = zone.day_of(hi) + timedelta(days=1)
    spans: list[tuple[int, int]] = []
    for day in days_between(first, last):
        weekday = day.isoweekday()
        for window in request.windows:
            if window.weekdays and weekday not in window.weekdays:
                continue
            start = zone.wall_to_utc(day, window.start)
            end = (
                zone.day_start(day + timedelta(days=1))
                if window.end == time(0)
                else zone.wall_to_utc(day, window.end)
            )
            if end - length >= start:
                spans.append((start, end - length + 1))
    return normalise(spans)


def _eligible_rooms(request: SlotRequest, availability: AvailabilityData) -> list[uuid.UUID]:
    room = request.room
    if room.kind == "rooms":
        return [r for r in room.room_ids if r in availability.rooms]
    if room.kind == "capacity":
        need = room.min_capacity or 1
        return sorted(r for r, data in availability.rooms.items() if data.capacity >= need)
    return []


def _pool_members(request: SlotRequest) -> list[list[uuid.UUID]]:
    """Each pool's members, without required interviewers or members of an earlier pool (one
    person cannot fill two places)."""
    taken = set(request.interviewer_ids)
    pools: list[list[uuid.UUID]] = []
    for pool in request.pools:
        members = [m for m in dict.fromkeys(pool.member_ids) if m not in taken]
        taken.update(members)
        pools.append(members)
    return pools


@dataclass(slots=True)
class _Plan:
    analysis: Analysis
    required: list[_Person]
    pools: list[tuple[list[_Person], int]]
    rooms: list[tuple[uuid.UUID, Spans, int]]
    candidate: ZoneOffsets
    lo: int
    hi: int


def _plan(request: SlotRequest, availability: AvailabilityData, now: datetime) -> _Plan:
    duration = request.duration_minutes * 60
    before = request.buffer_before_minutes * 60
    after = request.buffer_after_minutes * 60
    step = request.step_minutes * 60
    lo = _seconds(request.earliest)
    hi = _seconds(request.latest)
    zones = _Zones(lo, hi)
    candidate = zones.get(request.time_zone)
    domain: Spans = [(lo, hi - duration + 1)] if hi - duration >= lo else []
    segments = candidate.segments(lo, hi + 1)
    windows = _window_spans(request, candidate, lo, hi, duration)

    def count(spans: Spans) -> int:
        return _aligned_count(spans, segments, step)

    considered = count(domain)
    refused: dict[str, int] = {}
    remaining = domain

    def keep(name: str, kept: Spans) -> None:
        nonlocal remaining
        refused[name] = count(remaining) - count(kept) if remaining else 0
        remaining = kept

    length = duration + after
    required = [_person(i, availability, zones, before, length) for i in request.interviewer_ids]
    pools = [
        ([_person(m, availability, zones, before, length) for m in members], pool.k)
        for members, pool in zip(_pool_members(request), request.pools, strict=True)
    ]
    room_ids = _eligible_rooms(request, availability)
    rooms = [
        (
            room_id,
            starts_within(_free_of(availability, room_id), before=before, length=length),
            availability.rooms[room_id].capacity,
        )
        for room_id in room_ids
    ]

    keep(
        "min_notice",
        intersect(remaining, [(_seconds(now) + request.min_notice_minutes * 60, FOREVER)]),
    )
    keep(
        "outside_candidate_windows",
        intersect(remaining, windows)
        if request.windows and request.windows_required
        else remaining,
    )
    busy_kept = remaining
    for person in required:
        busy_kept = intersect(busy_kept, person.free_starts)
    keep("interviewer_busy", busy_kept)
    daily = remaining
    for person in required:
        daily = subtract(daily, person.day_capped)
    keep("daily_cap", daily)
    weekly = remaining
    for person in required:
        weekly = subtract(weekly, person.week_capped)
    keep("weekly_cap", weekly)
    pooled = remaining
    for members, k in pools:
        pooled = intersect(pooled, at_least([m.starts for m in members], k))
    keep("pool_short", pooled)
    if request.room.kind == "remote":
        keep("no_room_free", remaining)
    else:
        keep(
            "no_room_free",
            intersect(remaining, normalise(s for _, spans, _ in rooms for s in spans)),
        )
    analysis = Analysis(
        considered,
        {name: refused.get(name, 0) for name in REFUSALS},
        remaining,
        segments,
        step,
        windows,
    )
    return _Plan(analysis, required, pools, rooms, candidate, lo, hi)


def analyse(request: SlotRequest, availability: AvailabilityData, now: datetime) -> Analysis:
    """Candidate start times considered, refused per constraint, and the feasible ones."""
    return _plan(request, availability, now).analysis


def feasible_starts(
    request: SlotRequest, availability: AvailabilityData, now: datetime
) -> list[datetime]:
    analysis = analyse(request, availability, now)
    return [
        from_seconds(at) for at, _ in _aligned(analysis.feasible, analysis.segments, analysis.step)
    ]


def common_free_time(
    availability: AvailabilityData,
    interviewer_ids: Sequence[uuid.UUID],
    room_ids: Sequence[uuid.UUID],
) -> list[tuple[datetime, datetime]]:
    """When every interviewer and at least one of the rooms is free (what the benchmark
    compares with the ``portion`` library)."""
    common: Spans = [(-FOREVER, FOREVER)]
    for interviewer_id in interviewer_ids:
        known = interviewer_id in availability.interviewers
        common = intersect(common, _free_of(availability, interviewer_id) if known else [])
    if room_ids:
        rooms = normalise(
            s for r in room_ids if r in availability.rooms for s in _free_of(availability, r)
        )
        common = intersect(common, rooms)
    return [(from_seconds(a), from_seconds(b)) for a, b in common]


def _contains(spans: Spans, at: int) -> bool:
    index = bisect_right(spans, (at, FOREVER)) - 1
    return index >= 0 and spans[index][0] <= at < spans[index][1]


class _Load:
    """Interviews an interviewer already has on the day and week of a start, as a share of
    their caps (or of a usual load when uncapped), memoised per local day."""

    def __init__(self) -> None:
        self._memo: dict[tuple[uuid.UUID, int], float] = {}

    def share(self, person: _Person, at: int) -> float:
        if person.zone is None:
            return 1.0
        day_index = person.zone.local(at) // DAY
        key = (person.id, day_index)
        found = self._memo.get(key)
        if found is None:
            day = date.fromordinal(EPOCH_ORDINAL + day_index)
            iso = day.isocalendar()
            per_day = person.booked_per_day.get(day, 0) / (person.max_per_day or USUAL_PER_DAY)
            per_week = person.booked_per_week.get((iso[0], iso[1]), 0) / (
                person.max_per_week or USUAL_PER_WEEK
            )
            found = self._memo[key] = min(1.0, max(per_day, per_week))
        return found


def _time_of_day(local_seconds: int) -> float:
    hour = (local_seconds % DAY) / 3600
    if 10 <= hour < 16:
        return 1.0
    if 9 <= hour < 10 or 16 <= hour < 18:
        return 0.6
    if 8 <= hour < 9 or 18 <= hour < 20:
        return 0.3
    return 0.0


@dataclass(slots=True)
class _Scored:
    score: float
    at: int
    offset: int
    people: list[_Person]
    parts: dict[str, float]


def _score(
    plan: _Plan, request: SlotRequest, at: int, offset: int, load: _Load, windows_cursor: list[int]
) -> _Scored:
    chosen = list(plan.required)
    for members, k in plan.pools:
        free = [m for m in members if _contains(m.starts, at)]
        free.sort(key=lambda m: (load.share(m, at), str(m.id)))
        chosen.extend(free[:k])
    parts: dict[str, float] = {}
    if request.windows:
        spans = plan.analysis.windows
        i = windows_cursor[0]
        while i < len(spans) and spans[i][1] <= at:
            i += 1
        windows_cursor[0] = i
        parts["candidate_preference"] = 1.0 if i < len(spans) and spans[i][0] <= at else 0.0
    parts["time_of_day"] = _time_of_day(at + offset)
    parts["load_balance"] = (
        1.0 - sum(load.share(p, at) for p in chosen) / len(chosen) if chosen else 1.0
    )
    span = max(1, plan.hi - plan.lo)
    parts["earliness"] = 1.0 - (at - plan.lo) / span
    total_weight = sum(WEIGHTS[name] for name in parts)
    score = sum(WEIGHTS[name] * value for name, value in parts.items()) / total_weight
    return _Scored(round(score, 4), at, offset, chosen, parts)


def _pick(scored: list[_Scored], request: SlotRequest, duration: int) -> list[_Scored]:
    ranked = sorted(scored, key=lambda s: (-s.score, s.at))
    picked: list[_Scored] = []

    def clashes(candidate: _Scored) -> bool:
        return any(abs(candidate.at - other.at) < duration for other in picked)

    if request.spread_days:
        days: set[int] = set()
        for item in ranked:
            if len(picked) >= request.count:
                break
            day = (item.at + item.offset) // DAY
            if day not in days and not clashes(item):
                picked.append(item)
                days.add(day)
    for item in ranked:
        if len(picked) >= request.count:
            break
        if item not in picked and not clashes(item):
            picked.append(item)
    return sorted(picked, key=lambda s: (-s.score, s.at))


def _room_for(plan: _Plan, at: int) -> uuid.UUID | None:
    # The smallest room that fits, so big rooms stay free for big panels.
    fitting = [
        (capacity, str(room_id), room_id)
        for room_id, spans, capacity in plan.rooms
        if _contains(spans, at)
    ]
    return min(fitting)[2] if fitting else None


def _notes(parts: Mapping[str, float], local: datetime, people: int) -> dict[str, str]:
    return {
        "candidate_preference": "inside the candidate's preferred windows"
        if parts.get("candidate_preference")
        else "outside the candidate's preferred windows",
        "time_of_day": f"starts {local:%H:%M} in the candidate's time zone",
        "load_balance": f"the {people} interviewer(s) are {round(parts['load_balance'] * 100)}% "
        "free of their usual or capped load that day and week",
        "earliness": f"{round(parts['earliness'] * 100)}% of the range still ahead",
    }


def _message(request: SlotRequest, analysis: Analysis, feasible: int, found: int) -> str:
    asked = request.count
    if analysis.considered == 0:
        return (
            "No start time lies between earliest and latest for an interview of "
            f"{request.duration_minutes} minutes."
        )
    head = (
        f"Found {found} of {asked} suggestion(s): {feasible:,} of "
        f"{analysis.considered:,} start times considered fit"
    )
    if found >= asked:
        return head + "."
    refused = [
        f"{count:,} {REFUSAL_LABELS[name]}"
        for name, count in sorted(analysis.refused.items(), key=lambda kv: -kv[1])
        if count
    ]
    why = "; refused: " + ", ".join(refused) if refused else ""
    overlap = "; the others that fit overlap the suggestions made" if feasible > found else ""
    return head + why + overlap + "."


def propose(request: SlotRequest, availability: AvailabilityData, now: datetime) -> ProposalResult:
    """Rank the start times at which every required interviewer, ``k`` of each pool and a room
    are free (with buffers, caps, notice and the candidate's windows), best first; count the
    refused ones per constraint."""
    plan = _plan(request, availability, now)
    analysis = plan.analysis
    load = _Load()
    cursor = [0]
    scored = [
        _score(plan, request, at, offset, load, cursor)
        for at, offset in _aligned(analysis.feasible, analysis.segments, analysis.step)
    ]
    duration = request.duration_minutes * 60
    picked = _pick(scored, request, duration)
    zone = plan.candidate.zone
    suggestions = []
    for item in picked:
        local = datetime.fromtimestamp(item.at, zone)
        notes = _notes(item.parts, local, len(item.people))
        total_weight = sum(WEIGHTS[name] for name in item.parts)
        suggestions.append(
            Suggestion(
                starts_at=from_seconds(item.at),
                ends_at=from_seconds(item.at + duration),
                interviewer_ids=tuple(p.id for p in item.people),
                room_id=_room_for(plan, item.at),
                score=item.score,
                reasons=tuple(
                    Reason(
                        name, round(WEIGHTS[name] / total_weight, 4), round(value, 4), notes[name]
                    )
                    for name, value in item.parts.items()
                ),
            )
        )
    feasible = len(scored)
    diagnostics = Diagnostics(
        considered=analysis.considered,
        feasible=feasible,
        refused=dict(analysis.refused),
        message=_message(request, analysis, feasible, len(suggestions)),
    )
    return ProposalResult(tuple(suggestions), diagnostics)
