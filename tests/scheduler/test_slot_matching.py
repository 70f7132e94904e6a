"""The slot algorithm: ranked suggestions and their reasons, diagnostics per constraint,
pools, rooms and caps, daylight-saving switches, and a brute-force minute-grid oracle."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.availability import Availability
from scheduler.slots.intervals import at_least, intersect, normalise, subtract
from scheduler.slots.matching import analyse, common_free_time, feasible_starts, propose
from scheduler.slots.request import (
    REFUSALS,
    CandidateWindow,
    PoolRequirement,
    RoomRequirement,
    SlotRequest,
)
from tests.scheduler.proposals_support import availability

A, B, C, D = (uuid.UUID(int=n) for n in range(1, 5))
ROOM_SMALL, ROOM_BIG = uuid.UUID(int=101), uuid.UUID(int=102)
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
NY = "America/New_York"


def utc(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def request(**overrides: object) -> SlotRequest:
    fields: dict[str, object] = {
        "interviewer_ids": (A,),
        "duration_minutes": 60,
        "earliest": utc(2, 0),
        "latest": utc(7, 0),
        "time_zone": "UTC",
        **overrides,
    }
    return SlotRequest(**fields)  # type: ignore[arg-type]


def daily(hours: tuple[int, int], days: range = range(2, 7)) -> list[tuple[datetime, datetime]]:
    return [(utc(day, hours[0]), utc(day, hours[1])) for day in days]


# Suggestions and their ranking.


def test_three_non_overlapping_suggestions_come_back_best_first_with_four_reasons() -> None:
    free = availability(interviewers={A: daily((9, 17))})

    result = propose(request(), free, now=MONDAY)

    assert len(result.suggestions) == 3
    scores = [s.score for s in result.suggestions]
    assert scores == sorted(scores, reverse=True)
    starts = sorted(s.starts_at for s in result.suggestions)
    assert all(b - a >= timedelta(hours=1) for a, b in pairwise(starts))
    best = result.suggestions[0]
    assert best.ends_at - best.starts_at == timedelta(hours=1)
    assert best.interviewer_ids == (A,)
    assert best.room_id is None
    assert {r.factor for r in best.reasons} == {"time_of_day", "load_balance", "earliness"}
    assert round(sum(r.weight for r in best.reasons), 3) == 1.0
    # The best is on the first day (earliness) inside 10:00-16:00 (time of day).
    assert best.starts_at == utc(2, 10)


def test_the_candidates_preferred_windows_rank_first_and_are_a_reason() -> None:
    free = availability(interviewers={A: daily((9, 17))})
    windows = (CandidateWindow(start=time(14), end=time(16), weekdays=(4,)),)  # Thursday

    result = propose(request(windows=windows), free, now=MONDAY)

    best = result.suggestions[0]
    assert best.starts_at.date() == date(2026, 3, 5)
    assert time(14) <= best.starts_at.time() < time(15, 1)
    preference = next(r for r in best.reasons if r.factor == "candidate_preference")
    assert preference.score == 1.0
    assert preference.weight == 0.4


def test_required_windows_refuse_every_start_outside_them() -> None:
    free = availability(interviewers={A: daily((9, 17))})
    windows = (CandidateWindow(start=time(14), end=time(16), weekdays=(4,)),)

    result = propose(request(windows=windows, windows_required=True), free, now=MONDAY)

    assert [s.starts_at for s in result.suggestions] == [utc(5, 14), utc(5, 15)]
    assert result.diagnostics.feasible == 3  # 14:00, 14:30, 15:00
    assert result.diagnostics.refused["outside_candidate_windows"] > 0


def test_spread_over_days_puts_each_suggestion_on_another_day() -> None:
    free = availability(interviewers={A: daily((9, 17))})

    result = propose(request(spread_days=True, count=4), free, now=MONDAY)

    assert len({s.starts_at.date() for s in result.suggestions}) == 4


def test_a_pool_sends_its_least_loaded_free_member() -> None:
    free = availability(
        interviewers={A: daily((9, 17)), B: daily((9, 17)), C: daily((9, 17))},
        booked_per_day={B: {date(2026, 3, d): 3 for d in range(2, 7)}},
    )
    pool = PoolRequirement(member_ids=(B, C), k=1)

    result = propose(request(pools=(pool,)), free, now=MONDAY)

    assert all(s.interviewer_ids == (A, C) for s in result.suggestions)


def test_a_required_interviewer_is_not_counted_again_in_a_pool() -> None:
    free = availability(interviewers={A: daily((9, 17))})
    pool = PoolRequirement(member_ids=(A,), k=1)

    result = propose(request(pools=(pool,)), free, now=MONDAY)

    assert result.suggestions == ()
    assert (
        result.diagnostics.refused["pool_short"]
        == result.diagnostics.considered - (result.diagnostics.refused["interviewer_busy"])
    )


def test_the_smallest_room_that_is_free_and_big_enough_is_chosen() -> None:
    free = availability(
        interviewers={A: daily((9, 17))},
        rooms={ROOM_SMALL: daily((0, 23)), ROOM_BIG: daily((0, 23))},
        capacities={ROOM_SMALL: 2, ROOM_BIG: 10},
    )

    any_room = propose(request(room=RoomRequirement("capacity", min_capacity=2)), free, MONDAY)
    big = propose(request(room=RoomRequirement("capacity", min_capacity=3)), free, MONDAY)
    named = propose(request(room=RoomRequirement("rooms", room_ids=(ROOM_BIG,))), free, MONDAY)

    assert {s.room_id for s in any_room.suggestions} == {ROOM_SMALL}
    assert {s.room_id for s in big.suggestions} == {ROOM_BIG}
    assert {s.room_id for s in named.suggestions} == {ROOM_BIG}


# Diagnostics.


def test_when_nothing_fits_the_diagnostics_count_each_constraint_and_say_why() -> None:
    free = availability(
        interviewers={A: [(utc(2, 9), utc(2, 17)), (utc(3, 9), utc(3, 17))]},
        rooms={ROOM_SMALL: [(utc(2, 9), utc(2, 12))]},
        max_per_day={A: 2},
        booked_per_day={A: {date(2026, 3, 3): 2}},
    )
    ask = request(
        room=RoomRequirement("rooms", room_ids=(ROOM_SMALL,)),
        latest=utc(4, 0),
        min_notice_minutes=0,
    )

    result = propose(ask, free, now=utc(2, 11, 30))

    refused = result.diagnostics.refused
    assert result.suggestions == ()
    assert result.diagnostics.considered == 48 + 47  # every 30 minutes, the last at 23:00
    assert refused["min_notice"] == 23  # Monday 00:00-11:00
    assert refused["daily_cap"] == 15  # Tuesday 09:00-16:00
    assert refused["no_room_free"] == 10  # Monday 11:30-16:00 (the room closes at 12:00)
    assert refused["interviewer_busy"] == 15 + 18 + 14  # evenings and nights
    assert sum(refused.values()) == result.diagnostics.considered
    assert "daily cap" in result.diagnostics.message
    assert "no suitable room" in result.diagnostics.message
    assert result.diagnostics.message.startswith("Found 0 of 3")


def test_a_weekly_cap_refuses_the_whole_iso_week() -> None:
    free = availability(
        interviewers={A: daily((9, 17))},
        max_per_week={A: 5},
        booked_per_week={A: {(2026, 10): 5}},
    )

    result = propose(request(), free, now=MONDAY)

    assert result.suggestions == ()
    assert result.diagnostics.refused["weekly_cap"] == 5 * 15


def test_an_interviewer_missing_from_the_availability_is_never_free() -> None:
    result = propose(
        request(interviewer_ids=(A, D)), availability(interviewers={A: daily((9, 17))}), now=MONDAY
    )

    assert result.suggestions == ()
    assert result.diagnostics.refused["interviewer_busy"] == result.diagnostics.considered


def test_a_range_shorter_than_the_interview_considers_nothing() -> None:
    result = propose(request(latest=utc(2, 0, 30)), availability(), now=MONDAY)

    assert result.diagnostics.considered == 0
    assert "No start time" in result.diagnostics.message


# Daylight saving: steps and windows follow the candidate's clock.


def test_starts_stay_on_the_local_grid_across_the_new_york_spring_switch() -> None:
    # 8 March 2026, 02:00 EST becomes 03:00 EDT.
    free = availability(interviewers={A: [(utc(6, 0), utc(11, 0))]}, zones={A: NY})
    ask = request(
        time_zone=NY,
        earliest=utc(6, 0),
        latest=utc(11, 0),
        duration_minutes=30,
        windows=(CandidateWindow(start=time(9), end=time(10)),),
        windows_required=True,
    )

    starts = feasible_starts(ask, free, now=MONDAY)

    local = [s.astimezone(ZoneInfo(NY)) for s in starts]
    assert {(t.hour, t.minute) for t in local} == {(9, 0), (9, 30)}
    assert utc(6, 14) in starts  # 09:00 EST on Friday
    assert utc(9, 13) in starts  # 09:00 EDT on Monday


def test_the_short_and_long_days_of_new_york_have_23_and_25_hours_of_starts() -> None:
    zone = ZoneInfo(NY)

    def considered(day: date) -> int:
        start = datetime.combine(day, time(0), zone)
        end = datetime.combine(day + timedelta(days=1), time(0), zone)
        ask = request(time_zone=NY, earliest=start, latest=end, duration_minutes=30)
        return analyse(ask, availability(), now=start).considered

    assert considered(date(2026, 3, 7)) == 48
    assert considered(date(2026, 3, 8)) == 46
    assert considered(date(2026, 11, 1)) == 50


def test_a_window_on_the_autumn_switch_day_follows_local_time() -> None:
    # 1 November 2026: 02:00 EDT becomes 01:00 EST; a 10:00 window is at 15:00 UTC.
    free = availability(interviewers={A: [(utc(1, 0, month=11), utc(3, 0, month=11))]})
    ask = request(
        time_zone=NY,
        earliest=utc(31, 0, month=10),
        latest=utc(3, 0, month=11),
        windows=(CandidateWindow(start=time(10), end=time(11)),),
        windows_required=True,
    )

    starts = feasible_starts(ask, free, now=utc(1, 0, month=10))

    assert starts == [utc(1, 15, month=11), utc(2, 15, month=11)]


# The interval sweep against sets of minutes.

spans = st.lists(
    st.tuples(st.integers(0, 300), st.integers(1, 60)).map(lambda t: (t[0], t[0] + t[1])),
    max_size=8,
).map(normalise)


def minutes(value: list[tuple[int, int]]) -> set[int]:
    return {m for a, b in value for m in range(a, b)}


@given(spans, spans)
def test_intersect_and_subtract_agree_with_sets_of_minutes(
    a: list[tuple[int, int]], b: list[tuple[int, int]]
) -> None:
    assert minutes(intersect(a, b)) == minutes(a) & minutes(b)
    assert minutes(subtract(a, b)) == minutes(a) - minutes(b)


@given(st.lists(spans, min_size=1, max_size=5), st.integers(1, 5))
def test_at_least_k_agrees_with_counting_minutes(sets: list[list[tuple[int, int]]], k: int) -> None:
    counted = {m for m in range(400) if sum(m in minutes(s) for s in sets) >= k}
    assert minutes(at_least(sets, k)) == counted


# The whole algorithm against a brute-force minute grid.

ORACLE_ZONES = [NY, "Asia/Shanghai", "Asia/Kathmandu", "Australia/Lord_Howe", "UTC"]
# Days around New York's and Lord Howe's switches, and an ordinary one.
ORACLE_DAYS = [
    datetime(2026, 3, 7, tzinfo=UTC),
    datetime(2026, 10, 31, tzinfo=UTC),
    datetime(2026, 4, 4, tzinfo=UTC),
    datetime(2026, 6, 10, tzinfo=UTC),
]
SPAN = 3 * 24 * 60  # minutes in the generated world


@st.composite
def worlds(draw: st.DrawFn) -> tuple[SlotRequest, Availability, datetime]:
    base = draw(st.sampled_from(ORACLE_DAYS))
    people = [uuid.UUID(int=n) for n in range(1, 7)]
    rooms = [uuid.UUID(int=n) for n in range(101, 104)]

    def free_list() -> list[tuple[datetime, datetime]]:
        blocks = draw(
            st.lists(st.tuples(st.integers(0, SPAN), st.integers(15, 2000)), min_size=1, max_size=5)
        )
        return [
            (base + timedelta(minutes=s), base + timedelta(minutes=min(SPAN, s + n)))
            for s, n in blocks
        ]

    zones = {p: draw(st.sampled_from(ORACLE_ZONES)) for p in people}
    caps = {p: draw(st.sampled_from([None, 1, 2])) for p in people}
    week_caps = {p: draw(st.sampled_from([None, 2])) for p in people}
    booked = {
        p: {(base + timedelta(days=d)).date(): draw(st.integers(0, 2)) for d in range(-1, 4)}
        for p in people
    }
    world = availability(
        interviewers={p: free_list() for p in people},
        rooms={r: free_list() for r in rooms},
        zones=zones,
        max_per_day={p: c for p, c in caps.items() if c is not None},
        max_per_week={p: c for p, c in week_caps.items() if c is not None},
        booked_per_day=booked,
        booked_per_week={
            p: {(base.isocalendar()[0], base.isocalendar()[1]): draw(st.integers(0, 3))}
            for p in people
        },
        capacities={r: draw(st.integers(1, 6)) for r in rooms},
    )
    required = tuple(draw(st.lists(st.sampled_from(people[:3]), max_size=2, unique=True)))

    pools = tuple(
        PoolRequirement(
            member_ids=tuple(
                draw(st.lists(st.sampled_from(people), min_size=1, max_size=4, unique=True))
            ),
            k=draw(st.integers(1, 2)),
        )
        for _ in range(draw(st.sampled_from([0, 0, 1, 2])))
    )
    room = draw(
        st.sampled_from(
            [
                RoomRequirement("remote"),
                RoomRequirement("rooms", room_ids=(rooms[0], rooms[2])),
                RoomRequirement("capacity", min_capacity=3),
            ]
        )
    )
    earliest = base + timedelta(minutes=draw(st.integers(0, 24 * 60)))
    latest = earliest + timedelta(minutes=draw(st.integers(0, 36 * 60)))
    windows = tuple(
        CandidateWindow(
            start=time(h),
            end=time((h + draw(st.integers(1, 8))) % 24),
            weekdays=tuple(draw(st.lists(st.integers(1, 7), max_size=3, unique=True))),
        )
        for h in draw(st.lists(st.integers(0, 23), max_size=2))
    )
    ask = SlotRequest(
        interviewer_ids=required,
        pools=pools,
        room=room,
        duration_minutes=draw(st.sampled_from([15, 30, 45, 60, 90])),
        buffer_before_minutes=draw(st.sampled_from([0, 5, 15])),
        buffer_after_minutes=draw(st.sampled_from([0, 10])),
        earliest=earliest,
        latest=latest,
        min_notice_minutes=draw(st.sampled_from([0, 60, 600])),
        step_minutes=draw(st.sampled_from([15, 30])),
        time_zone=draw(st.sampled_from(ORACLE_ZONES)),
        windows=windows,
        windows_required=draw(st.sampled_from([False, False, True])),
    )
    now = base + timedelta(minutes=draw(st.integers(-600, 24 * 60)))
    return ask, world, now


def _oracle(
    ask: SlotRequest, world: Availability, now: datetime
) -> tuple[dict[str, int], list[datetime]]:
    """Every start on a one-minute grid, each constraint checked minute by minute."""
    zone = ZoneInfo(ask.time_zone)

    def free_minutes(resource: uuid.UUID) -> set[int]:
        return {
            int(t.timestamp()) // 60 + m
            for a, b in world.free.get(resource, [])
            for t in [a]
            for m in range(int((b - a).total_seconds()) // 60)
        }

    grid = {r: free_minutes(r) for r in [*world.interviewers, *world.rooms]}

    def free_for(resource: uuid.UUID, start: int) -> bool:
        if resource not in world.interviewers and resource not in world.rooms:
            return False
        need = range(
            start - ask.buffer_before_minutes,
            start + ask.duration_minutes + ask.buffer_after_minutes,
        )
        return all(m in grid[resource] for m in need)

    def capped(person: uuid.UUID, start: int, weekly: bool) -> bool:
        info = world.interviewers.get(person)
        if info is None:
            return False
        local = datetime.fromtimestamp(start * 60, ZoneInfo(info.time_zone)).date()
        if weekly:
            iso = local.isocalendar()
            count = world.booked_per_week[person].get((iso[0], iso[1]), 0)
            return info.max_per_week is not None and count >= info.max_per_week
        count = world.booked_per_day[person].get(local, 0)
        return info.max_per_day is not None and count >= info.max_per_day

    def in_window(start: int) -> bool:
        local = datetime.fromtimestamp(start * 60, zone).date()
        for day in (local - timedelta(days=1), local):
            for w in ask.windows:
                if w.weekdays and day.isoweekday() not in w.weekdays:
                    continue
                ws = datetime.combine(day, w.start, zone).timestamp() // 60
                end_day = day + timedelta(days=1) if w.end == time(0) else day
                we = datetime.combine(end_day, w.end, zone).timestamp() // 60
                if ws <= start and start + ask.duration_minutes <= we:
                    return True
        return False

    taken = set(ask.interviewer_ids)
    pools = []
    for pool in ask.pools:
        members = [m for m in dict.fromkeys(pool.member_ids) if m not in taken]
        taken.update(members)
        pools.append((members, pool.k))
    if ask.room.kind == "rooms":
        rooms = [r for r in ask.room.room_ids if r in world.rooms]
    elif ask.room.kind == "capacity":
        rooms = [
            r for r, info in world.rooms.items() if info.capacity >= (ask.room.min_capacity or 1)
        ]
    else:
        rooms = []

    refused = dict.fromkeys(REFUSALS, 0)
    feasible: list[datetime] = []
    first = int(ask.earliest.timestamp()) // 60
    last = int(ask.latest.timestamp()) // 60 - ask.duration_minutes
    notice = int(now.timestamp()) // 60 + ask.min_notice_minutes
    for start in range(first, last + 1):
        local = datetime.fromtimestamp(start * 60, zone)
        if (local.hour * 60 + local.minute) % ask.step_minutes:
            continue
        if start < notice:
            refused["min_notice"] += 1
        elif ask.windows and ask.windows_required and not in_window(start):
            refused["outside_candidate_windows"] += 1
        elif not all(free_for(p, start) for p in ask.interviewer_ids):
            refused["interviewer_busy"] += 1
        elif any(capped(p, start, weekly=False) for p in ask.interviewer_ids):
            refused["daily_cap"] += 1
        elif any(capped(p, start, weekly=True) for p in ask.interviewer_ids):
            refused["weekly_cap"] += 1
        elif any(
            sum(
                free_for(m, start)
                and not capped(m, start, weekly=False)
                and not capped(m, start, weekly=True)
                for m in members
            )
            < k
            for members, k in pools
        ):
            refused["pool_short"] += 1
        elif ask.room.kind != "remote" and not any(free_for(r, start) for r in rooms):
            refused["no_room_free"] += 1
        else:
            feasible.append(datetime.fromtimestamp(start * 60, UTC))
    return refused, feasible


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_the_sweep_refuses_and_admits_the_same_starts_as_a_minute_grid(
    world: tuple[SlotRequest, Availability, datetime],
) -> None:
    ask, free, now = world

    refused, feasible = _oracle(ask, free, now)

    analysis = analyse(ask, free, now)
    assert analysis.refused == refused
    assert feasible_starts(ask, free, now) == feasible
    assert analysis.considered == sum(refused.values()) + len(feasible)
    result = propose(ask, free, now)
    assert result.diagnostics.feasible == len(feasible)
    assert {s.starts_at for s in result.suggestions} <= set(feasible)


@settings(max_examples=60, deadline=None)
@given(worlds())
def test_common_free_time_is_the_minutes_everyone_and_a_room_are_free(
    world: tuple[SlotRequest, Availability, datetime],
) -> None:
    _, free, _ = world
    people = list(free.interviewers)[:3]
    rooms = list(free.rooms)

    common = common_free_time(free, people, rooms)

    def grid(resource: uuid.UUID) -> set[int]:
        return {
            int(a.timestamp()) // 60 + m
            for a, b in free.free[resource]
            for m in range(int((b - a).total_seconds()) // 60)
        }

    expected = set.intersection(*(grid(p) for p in people)) & set().union(*(grid(r) for r in rooms))
    got = {
        int(a.timestamp()) // 60 + m
        for a, b in common
        for m in range(int((b - a).total_seconds()) // 60)
    }
    assert got == expected
