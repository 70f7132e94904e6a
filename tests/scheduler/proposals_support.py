"""Helpers of the proposal tests: plain availability for the algorithm, request bodies for the
API, interview needs and the outbox."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from scheduler.availability import Availability, Interval, InterviewerInfo, RoomInfo
from tests.scheduler.resources_support import NOW

FAR = datetime(2100, 1, 1, tzinfo=UTC)


def availability(
    *,
    interviewers: Mapping[uuid.UUID, Sequence[Interval]] = {},
    rooms: Mapping[uuid.UUID, Sequence[Interval]] = {},
    zones: Mapping[uuid.UUID, str] = {},
    max_per_day: Mapping[uuid.UUID, int] = {},
    max_per_week: Mapping[uuid.UUID, int] = {},
    booked_per_day: Mapping[uuid.UUID, Mapping[date, int]] = {},
    booked_per_week: Mapping[uuid.UUID, Mapping[tuple[int, int], int]] = {},
    capacities: Mapping[uuid.UUID, int] = {},
) -> Availability:
    """The loader's answer, built by hand."""
    answer = Availability(start=datetime(2000, 1, 1, tzinfo=UTC), end=FAR)
    for interviewer_id, free in interviewers.items():
        answer.free[interviewer_id] = list(free)
        answer.interviewers[interviewer_id] = InterviewerInfo(
            id=interviewer_id,
            time_zone=zones.get(interviewer_id, "UTC"),
            max_per_day=max_per_day.get(interviewer_id),
            max_per_week=max_per_week.get(interviewer_id),
        )
        answer.booked_per_day[interviewer_id] = dict(booked_per_day.get(interviewer_id, {}))
        answer.booked_per_week[interviewer_id] = dict(booked_per_week.get(interviewer_id, {}))
    for room_id, free in rooms.items():
        answer.free[room_id] = list(free)
        answer.rooms[room_id] = RoomInfo(
            id=room_id, time_zone=zones.get(room_id, "UTC"), capacity=capacities.get(room_id, 4)
        )
    return answer


def proposal_body(**overrides: Any) -> dict[str, Any]:
    """Tuesday 3 to Friday 6 March 2026 in Shanghai, one hour, remote."""
    return {
        "job_id": None,
        "candidate_id": None,
        "interviewer_ids": [],
        "duration_minutes": 60,
        "earliest": "2026-03-03T00:00:00+08:00",
        "latest": "2026-03-07T00:00:00+08:00",
        "time_zone": "Asia/Shanghai",
        **overrides,
    }


async def insert_need(
    db: asyncpg.Connection,
    *,
    application_id: uuid.UUID,
    job_id: uuid.UUID,
    candidate_id: uuid.UUID,
) -> None:
    await db.execute(
        """INSERT INTO scheduler.interview_needs
               (application_id, job_id, candidate_id, stage_key, status, application_version,
                opened_at, updated_at)
           VALUES ($1, $2, $3, 'round_1', 'open', 2, $4, $4)""",
        application_id,
        job_id,
        candidate_id,
        NOW,
    )


async def insert_pool(db: asyncpg.Connection, members: Sequence[uuid.UUID]) -> uuid.UUID:
    pool_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO scheduler.pools (id, name, created_at) VALUES ($1, $2, $3)",
        pool_id,
        f"pool-{pool_id.hex[:8]}",
        NOW,
    )
    for member in members:
        await db.execute(
            "INSERT INTO scheduler.pool_members (pool_id, interviewer_id) VALUES ($1, $2)",
            pool_id,
            member,
        )
    return pool_id


async def proposed_events(db: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await db.fetch(
        """SELECT subject, payload FROM scheduler.outbox
           WHERE event_type = 'scheduler.interview_proposed.v1' ORDER BY id"""
    )
    return [{"subject": row["subject"], **json.loads(row["payload"])} for row in rows]
