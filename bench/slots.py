"""Slots: the slot algorithm alone, against the ``portion`` interval library, and the proposal
endpoint of the real scheduler process, database reads included.

The world: a panel of 5 interviewers (Shanghai, weekdays 09:00-18:00) and a pool of 10 rooms
over 30 days, with 8 busy blocks per person per day (and 4 per room). The core is timed in this
process on plain data (``scheduler.slots.matching.propose``, after the same free time came out
of it and of ``portion``); the endpoint (``POST /v1/applications/{id}/proposals``, which loads
the same world from the database, runs the core and stores the proposal) is timed one request
at a time against ``python -m scheduler serve``.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import portion  # type: ignore[import-untyped]

from bench import expiries, processes
from bench.environment import BenchRun, admin_connection
from bench.report import Distribution, Figure, percentile
from bench.web import HR_SUBJECT, bearer
from scheduler.app import spec as scheduler_spec
from scheduler.availability import Availability, InterviewerInfo, RoomInfo
from scheduler.slots.matching import common_free_time, propose
from scheduler.slots.request import RoomRequirement, SlotRequest
from shared.bootstrap import bootstrap
from shared.migrations import upgrade

CORE_P95_TARGET_MS = 5.0
PORTION_RATIO_TARGET = 20.0
ENDPOINT_P95_TARGET_MS = 50.0
ZONE = "Asia/Shanghai"
SERVICE = "scheduler"


def _next_monday() -> datetime:
    """Local midnight of the Monday at least a week ahead (the service uses the real clock)."""
    today = datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=7)
    monday = today + timedelta(days=(7 - today.weekday()) % 7)
    return datetime(monday.year, monday.month, monday.day, tzinfo=ZoneInfo(ZONE))


START = _next_monday()


@dataclass(frozen=True)
class SlotsPlan:
    panel: int = 5
    rooms: int = 10
    days: int = 30
    busy_per_day: int = 8
    room_busy_per_day: int = 4
    core_runs: int = 300
    portion_runs: int = 15
    endpoint_requests: int = 200
    warmup_requests: int = 20
    seed: int = 4


@dataclass(frozen=True)
class SlotsResult:
    core_ms: Distribution
    core_p95_ms: float
    free_time_ms: Distribution
    portion_ms: Distribution
    endpoint_ms: Distribution
    endpoint_p95_ms: float
    free_intervals: int
    suggestions: int
    considered: int
    disturbances: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.portion_ms.p50 / self.core_ms.p50


@dataclass(frozen=True)
class _World:
    interviewers: list[uuid.UUID]
    rooms: list[uuid.UUID]
    # (resource, start, end) busy time
    busy: list[tuple[uuid.UUID, datetime, datetime]]


def _world(plan: SlotsPlan) -> _World:
    rng = random.Random(plan.seed)
    interviewers = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(plan.panel)]
    rooms = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(plan.rooms)]
    busy: list[tuple[uuid.UUID, datetime, datetime]] = []
    for day in range(plan.days):
        local = START + timedelta(days=day)
        for resource, count in [(i, plan.busy_per_day) for i in interviewers] + [
            (r, plan.room_busy_per_day) for r in rooms
        ]:
            for _ in range(count):
                minute = rng.randrange(8 * 60, 19 * 60, 15)
                length = rng.choice([15, 15, 30, 30, 45])
                start = (local + timedelta(minutes=minute)).astimezone(UTC)
                busy.append((resource, start, start + timedelta(minutes=length)))
    return _World(interviewers, rooms, busy)


def _subtract(
    base: list[tuple[datetime, datetime]], cut: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    free = portion.empty()
    for a, b in base:
        free |= portion.closedopen(a, b)
    for a, b in cut:
        free -= portion.closedopen(a, b)
    return [(i.lower, i.upper) for i in free if not i.empty]


def _availability(plan: SlotsPlan, world: _World) -> Availability:
    """What ``load_availability`` answers for the world (working days Monday to Friday)."""
    end = START + timedelta(days=plan.days)
    answer = Availability(start=START.astimezone(UTC), end=end.astimezone(UTC))
    working: list[tuple[datetime, datetime]] = []
    open_days: list[tuple[datetime, datetime]] = []
    for day in range(plan.days):
        local = START + timedelta(days=day)
        if local.isoweekday() <= 5:
            working.append(
                (
                    (local + timedelta(hours=9)).astimezone(UTC),
                    (local + timedelta(hours=18)).astimezone(UTC),
                )
            )
            open_days.append((local.astimezone(UTC), (local + timedelta(days=1)).astimezone(UTC)))
    busy: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {}
    for resource, a, b in world.busy:
        busy.setdefault(resource, []).append((a, b))
    for interviewer_id in world.interviewers:
        answer.interviewers[interviewer_id] = InterviewerInfo(interviewer_id, ZONE, 4, 15)
        answer.free[interviewer_id] = _subtract(working, busy[interviewer_id])
    for number, room_id in enumerate(world.rooms):
        answer.rooms[room_id] = RoomInfo(room_id, ZONE, 4 + number)
        answer.free[room_id] = _subtract(open_days, busy[room_id])
    return answer


def _request(plan: SlotsPlan, world: _World, room_ids: list[uuid.UUID]) -> SlotRequest:
    return SlotRequest(
        interviewer_ids=tuple(world.interviewers),
        room=RoomRequirement("rooms", room_ids=tuple(room_ids)),
        duration_minutes=30,
        buffer_before_minutes=0,
        buffer_after_minutes=5,
        earliest=START,
        latest=START + timedelta(days=plan.days),
        step_minutes=15,
        time_zone=ZONE,
        count=3,
        spread_days=True,
    )


def _portion_free_time(
    availability: Availability, interviewer_ids: list[uuid.UUID], room_ids: list[uuid.UUID]
) -> list[tuple[datetime, datetime]]:
    """The panel's and any room's common free time, the ``portion`` way."""
    common = portion.open(-portion.inf, portion.inf)
    for interviewer_id in interviewer_ids:
        free = portion.empty()
        for a, b in availability.free[interviewer_id]:
            free |= portion.closedopen(a, b)
        common &= free
    rooms = portion.empty()
    for room_id in room_ids:
        for a, b in availability.free[room_id]:
            rooms |= portion.closedopen(a, b)
    common &= rooms
    return [(i.lower, i.upper) for i in common if not i.empty]


def _timed(runs: int, call: Any) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _seed(run: BenchRun, plan: SlotsPlan, world: _World) -> uuid.UUID:
    """The world in the scheduler's tables, and a job the bench's HR user owns."""
    job_id = uuid.uuid4()
    hours = {str(d): [["09:00", "18:00"]] for d in range(1, 6)}
    connection = await admin_connection(run)
    try:
        async with connection.transaction():
            await connection.execute(
                """INSERT INTO scheduler.jobs (id, title, status, owner_ids, changed_at)
                   VALUES ($1, 'Slots bench', 'open', ARRAY[$2::text], now())""",
                job_id,
                HR_SUBJECT,
            )
            await connection.executemany(
                """INSERT INTO scheduler.interviewers
                       (id, subject, display_name, time_zone, working_hours, max_per_day,
                        max_per_week, version, created_at, updated_at)
                   VALUES ($1, $2, 'Bench interviewer', $3, $4::jsonb, 4, 15, 1, now(), now())""",
                [(i, f"bench-{i.hex[:8]}", ZONE, json.dumps(hours)) for i in world.interviewers],
            )
            await connection.executemany(
                """INSERT INTO scheduler.rooms
                       (id, name, location, capacity, time_zone, version, created_at, updated_at)
                   VALUES ($1, $2, 'Bench HQ', $3, $4, 1, now(), now())""",
                [(r, f"room-{n}", 4 + n, ZONE) for n, r in enumerate(world.rooms)],
            )
            await connection.executemany(
                """INSERT INTO scheduler.busy_blocks
                       (id, resource_kind, resource_id, during, source, created_at)
                   VALUES (gen_random_uuid(), $1, $2, tstzrange($3, $4), 'api', now())""",
                [
                    ("interviewer" if r in world.interviewers else "room", r, a, b)
                    for r, a, b in world.busy
                ],
            )
    finally:
        await connection.close()
    return job_id


async def _endpoint(run: BenchRun, plan: SlotsPlan, world: _World) -> tuple[list[float], list[str]]:
    settings = expiries.scheduler_settings(run)
    await bootstrap(settings, scheduler_spec.extensions)
    await asyncio.to_thread(upgrade, settings, scheduler_spec)
    job_id = await _seed(run, plan, world)
    env = run.service_env(SERVICE)
    port = processes.free_port()
    body = {
        "job_id": str(job_id),
        "candidate_id": str(uuid.uuid4()),
        "interviewer_ids": [str(i) for i in world.interviewers],
        "room": {"kind": "rooms", "room_ids": [str(r) for r in world.rooms]},
        "duration_minutes": 30,
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 5,
        "earliest": START.isoformat(),
        "latest": (START + timedelta(days=plan.days)).isoformat(),
        "step_minutes": 15,
        "time_zone": ZONE,
        "spread_days": True,
    }
    headers = {"Authorization": f"Bearer {bearer(run)}"}
    samples: list[float] = []
    async with processes.service(
        "scheduler-slots", "scheduler", env=env, workdir=run.workdir, port=port
    ) as server:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for number in range(plan.warmup_requests + plan.endpoint_requests):
                started = time.perf_counter()
                response = await client.post(
                    f"/v1/applications/{uuid.uuid4()}/proposals", json=body, headers=headers
                )
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 201:
                    raise RuntimeError(f"proposal: {response.status_code} {response.text[:500]}")
                if not response.json()["suggestions"]:
                    raise RuntimeError("the proposal endpoint found no slot in the bench world")
                if number >= plan.warmup_requests:
                    samples.append(elapsed)
        return samples, server.disturbances()


async def measure(run: BenchRun, plan: SlotsPlan) -> SlotsResult:
    world = _world(plan)
    availability = _availability(plan, world)
    request = _request(plan, world, world.rooms)
    now = START.astimezone(UTC) - timedelta(days=1)

    ours = common_free_time(availability, world.interviewers, world.rooms)
    theirs = _portion_free_time(availability, world.interviewers, world.rooms)
    if ours != theirs:
        raise RuntimeError(
            f"free time differs: core {len(ours)} intervals, portion {len(theirs)} intervals"
        )
    result = propose(request, availability, now)
    if not result.suggestions:
        raise RuntimeError("the core found no slot in the bench world")

    core = _timed(plan.core_runs, lambda: propose(request, availability, now))
    free_time = _timed(
        plan.core_runs, lambda: common_free_time(availability, world.interviewers, world.rooms)
    )
    slow = _timed(
        plan.portion_runs,
        lambda: _portion_free_time(availability, world.interviewers, world.rooms),
    )
    endpoint, disturbances = await _endpoint(run, plan, world)
    return SlotsResult(
        core_ms=Distribution.of(core),
        core_p95_ms=percentile(sorted(core), 95),
        free_time_ms=Distribution.of(free_time),
        portion_ms=Distribution.of(slow),
        endpoint_ms=Distribution.of(endpoint),
        endpoint_p95_ms=percentile(sorted(endpoint), 95),
        free_intervals=len(ours),
        suggestions=len(result.suggestions),
        considered=result.diagnostics.considered,
        disturbances=disturbances,
    )


def figures(result: SlotsResult, plan: SlotsPlan) -> list[Figure]:
    world = (
        f"{plan.panel}-person panel + {plan.rooms} rooms, {plan.days} days, "
        f"{plan.busy_per_day} busy blocks/person/day"
    )
    return [
        Figure(
            key="slots_core_p95",
            title=f"slot algorithm (propose), {world}, p95",
            unit="ms",
            ours=result.core_p95_ms,
            floor=None,
            target=CORE_P95_TARGET_MS,
            comparison="ours<",
        ),
        Figure(
            key="slots_core_vs_portion",
            title="slot algorithm (whole propose) vs the same free time with portion, "
            "runs/s at the median",
            unit="runs/s",
            ours=1000 / result.core_ms.p50,
            floor=1000 / result.portion_ms.p50,
            target=PORTION_RATIO_TARGET,
            comparison="ratio>=",
        ),
        Figure(
            key="slots_endpoint_p95",
            title=f"POST /v1/applications/{{id}}/proposals with database reads, {world}, p95",
            unit="ms",
            ours=result.endpoint_p95_ms,
            floor=None,
            target=ENDPOINT_P95_TARGET_MS,
            comparison="ours<",
        ),
    ]


def details(result: SlotsResult) -> dict[str, Any]:
    def rounded(d: Distribution) -> dict[str, float]:
        return {k: round(float(v), 3) for k, v in d.__dict__.items()}

    return {
        "core_ms": rounded(result.core_ms),
        "core_p95_ms": round(result.core_p95_ms, 3),
        "free_time_ms": rounded(result.free_time_ms),
        "portion_ms": rounded(result.portion_ms),
        "ratio_core_vs_portion": round(result.ratio, 1),
        "ratio_free_time_vs_portion": round(result.portion_ms.p50 / result.free_time_ms.p50, 1),
        "endpoint_ms": rounded(result.endpoint_ms),
        "endpoint_p95_ms": round(result.endpoint_p95_ms, 3),
        "free_intervals": result.free_intervals,
        "suggestions": result.suggestions,
        "start_times_considered": result.considered,
    }
