"""Rows of the scheduler's resources for tests, written straight to the database: jobs,
interviewers, rooms, calendars, overrides, busy blocks and bookings."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

ADMIN = "admin-zoe"
HR = "hr-alice"
OTHER_HR = "hr-bob"
INTERVIEWER_SUB = "int-ivan"

WEEKDAYS_9_TO_6: dict[str, list[list[str]]] = {
    str(day): [["09:00", "12:00"], ["13:00", "18:00"]] for day in range(1, 6)
}
EVERY_DAY_9_TO_6: dict[str, list[list[str]]] = {
    str(day): [["09:00", "18:00"]] for day in range(1, 8)
}

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Shanghai


def interviewer_body(**overrides: Any) -> dict[str, Any]:
    return {
        "subject": INTERVIEWER_SUB,
        "display_name": "Ivan Petrov",
        "time_zone": "Asia/Shanghai",
        "working_hours": WEEKDAYS_9_TO_6,
        "max_per_day": 3,
        "max_per_week": 10,
        "skills": ["python", "system-design"],
        **overrides,
    }


def room_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Everest",
        "location": "Shanghai HQ, floor 12",
        "capacity": 6,
        "equipment": ["screen", "whiteboard"],
        "time_zone": "Asia/Shanghai",
        **overrides,
    }


async def insert_job(
    db: asyncpg.Connection,
    *,
    owner_ids: Sequence[str] = (HR,),
    job_id: uuid.UUID | None = None,
    changed_at: datetime = NOW,
) -> uuid.UUID:
    job_id = job_id or uuid.uuid4()
    await db.execute(
        """INSERT INTO scheduler.jobs (id, title, status, owner_ids, changed_at)
           VALUES ($1, 'Backend engineer', 'open', $2, $3)""",
        job_id,
        list(owner_ids),
        changed_at,
    )
    return job_id


async def insert_interviewer(
    db: asyncpg.Connection,
    *,
    subject: str | None = None,
    time_zone: str = "Asia/Shanghai",
    working_hours: Mapping[str, Any] = WEEKDAYS_9_TO_6,
    max_per_day: int | None = None,
    max_per_week: int | None = None,
    calendar_id: str = "cn",
    active: bool = True,
) -> uuid.UUID:
    interviewer_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO scheduler.interviewers
               (id, subject, display_name, time_zone, working_hours, max_per_day, max_per_week,
                calendar_id, active, version, created_at, updated_at)
           VALUES ($1, $2, 'Interviewer', $3, $4::jsonb, $5, $6, $7, $8, 1, $9, $9)""",
        interviewer_id,
        subject or f"int-{interviewer_id.hex[:8]}",
        time_zone,
        json.dumps(dict(working_hours)),
        max_per_day,
        max_per_week,
        calendar_id,
        active,
        NOW,
    )
    return interviewer_id


async def insert_room(
    db: asyncpg.Connection,
    *,
    time_zone: str = "Asia/Shanghai",
    calendar_id: str = "cn",
    capacity: int = 4,
    active: bool = True,
) -> uuid.UUID:
    room_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO scheduler.rooms
               (id, name, location, capacity, time_zone, calendar_id, active, version,
                created_at, updated_at)
           VALUES ($1, $2, 'HQ', $3, $4, $5, $6, 1, $7, $7)""",
        room_id,
        f"room-{room_id.hex[:8]}",
        capacity,
        time_zone,
        calendar_id,
        active,
        NOW,
    )
    return room_id


async def insert_calendar(
    db: asyncpg.Connection,
    calendar_id: str,
    *,
    base: str = "custom",
    days: Mapping[date, str] | None = None,
) -> str:
    await db.execute(
        "INSERT INTO scheduler.calendars (id, name, base, created_at) VALUES ($1, $1, $2, $3)",
        calendar_id,
        base,
        NOW,
    )
    for day, kind in (days or {}).items():
        await insert_calendar_day(db, calendar_id, day, kind)
    return calendar_id


async def insert_calendar_day(
    db: asyncpg.Connection, calendar_id: str, day: date, kind: str, name: str | None = None
) -> None:
    await db.execute(
        """INSERT INTO scheduler.calendar_days (calendar_id, day, kind, name)
           VALUES ($1, $2, $3, $4)""",
        calendar_id,
        day,
        kind,
        name,
    )


async def insert_override(
    db: asyncpg.Connection,
    interviewer_id: uuid.UUID,
    start: datetime,
    end: datetime,
    kind: str,
) -> uuid.UUID:
    override_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO scheduler.availability_overrides
               (id, interviewer_id, during, kind, created_at)
           VALUES ($1, $2, tstzrange($3, $4), $5, $6)""",
        override_id,
        interviewer_id,
        start,
        end,
        kind,
        NOW,
    )
    return override_id


async def insert_busy_block(
    db: asyncpg.Connection,
    resource_id: uuid.UUID,
    start: datetime,
    end: datetime,
    *,
    resource_kind: str = "interviewer",
    external_id: str | None = None,
) -> uuid.UUID:
    block_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO scheduler.busy_blocks
               (id, resource_kind, resource_id, during, source, external_id, created_at)
           VALUES ($1, $2, $3, tstzrange($4, $5), 'api', $6, $7)""",
        block_id,
        resource_kind,
        resource_id,
        start,
        end,
        external_id,
        NOW,
    )
    return block_id


async def insert_booking(
    db: asyncpg.Connection,
    *,
    job_id: uuid.UUID,
    start: datetime,
    end: datetime,
    interviewer_ids: Sequence[uuid.UUID] = (),
    room_id: uuid.UUID | None = None,
    active: bool = True,
) -> uuid.UUID:
    """An interview with one booking per interviewer (and the room), over ``[start, end)``."""
    interview_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO scheduler.interviews
               (id, application_id, job_id, candidate_id, state, starts_at, ends_at,
                candidate_time_zone, room_id, ics_uid, version, created_by, created_at,
                updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'Asia/Shanghai', $8, $9, 1, 'test', $10, $10)""",
        interview_id,
        uuid.uuid4(),
        job_id,
        uuid.uuid4(),
        "booked" if active else "cancelled",
        start,
        end,
        room_id,
        f"{interview_id}@test",
        NOW,
    )
    resources = [("interviewer", i) for i in interviewer_ids]
    if room_id is not None:
        resources.append(("room", room_id))
    for kind, resource_id in resources:
        await db.execute(
            """INSERT INTO scheduler.bookings (interview_id, resource_kind, resource_id, during,
                                                 active)
               VALUES ($1, $2, $3, tstzrange($4, $5), $6)""",
            interview_id,
            kind,
            resource_id,
            start,
            end,
            active,
        )
    return interview_id
