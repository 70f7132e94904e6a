"""Helpers of the interview tests: rows written straight to the database (jobs, interviewers,
rooms, pools, proposals with their suggestions, invitations with a link), and reads of what
the service wrote (interviews, bookings, events, timers)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from shared.auth.link_tokens import hash_token, new_token

HR = "hr-alice"
OTHER_HR = "hr-bob"
ADMIN = "admin-zoe"

# Monday 2 March 2026, 09:00 in Shanghai; the interviews are on Tuesday 3 March.
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SLOT_START = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
SLOT_END = SLOT_START + timedelta(hours=1)
ALL_DAY = {str(day): [["00:00", "24:00"]] for day in range(1, 8)}


def iso(moment: datetime) -> str:
    return moment.isoformat()


async def insert_job(db: asyncpg.Connection, *, owners: Sequence[str] = (HR,)) -> uuid.UUID:
    job_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO scheduler.jobs (id, title, status, owner_ids, changed_at)
           VALUES ($1, 'Backend engineer', 'open', $2, $3)""",
        job_id,
        list(owners),
        NOW,
    )
    return job_id


async def insert_interviewer(
    db: asyncpg.Connection,
    *,
    subject: str | None = None,
    name: str = "Ivan Petrov",
    time_zone: str = "Asia/Shanghai",
    max_per_day: int | None = None,
    max_per_week: int | None = None,
) -> uuid.UUID:
    interviewer_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO scheduler.interviewers
               (id, subject, display_name, time_zone, working_hours, max_per_day, max_per_week,
                version, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, 1, $8, $8)""",
        interviewer_id,
        subject or f"int-{interviewer_id.hex[:8]}",
        name,
        time_zone,
        json.dumps(ALL_DAY),
        max_per_day,
        max_per_week,
        NOW,
    )
    return interviewer_id


async def insert_room(db: asyncpg.Connection, *, name: str = "Everest") -> uuid.UUID:
    room_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO scheduler.rooms
               (id, name, location, capacity, time_zone, version, created_at, updated_at)
           VALUES ($1, $2, 'Shanghai HQ, floor 12', 6, 'Asia/Shanghai', 1, $3, $3)""",
        room_id,
        f"{name}-{room_id.hex[:6]}",
        NOW,
    )
    return room_id


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


@dataclass(frozen=True)
class Suggested:
    starts_at: datetime
    ends_at: datetime
    interviewer_ids: Sequence[uuid.UUID]
    room_id: uuid.UUID | None = None


@dataclass
class World:
    """One job with a proposal for one application (and its candidate)."""

    job_id: uuid.UUID
    application_id: uuid.UUID
    candidate_id: uuid.UUID
    proposal_id: uuid.UUID
    interviewer_ids: list[uuid.UUID] = field(default_factory=list)
    room_id: uuid.UUID | None = None


async def insert_proposal(
    db: asyncpg.Connection,
    *,
    job_id: uuid.UUID,
    suggestions: Sequence[Suggested],
    required: Sequence[uuid.UUID],
    pools: Sequence[tuple[uuid.UUID, Sequence[uuid.UUID], int]] = (),
    room: dict[str, Any] | None = None,
    application_id: uuid.UUID | None = None,
    candidate_id: uuid.UUID | None = None,
    time_zone: str = "Asia/Shanghai",
    earliest: datetime = SLOT_START - timedelta(hours=6),
    latest: datetime = SLOT_START + timedelta(days=2),
    buffer_minutes: int = 10,
    duration_minutes: int = 60,
) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A stored proposal in the proposals area's JSON shape; returns (proposal, application,
    candidate) ids."""
    proposal_id = uuid.uuid4()
    application_id = application_id or uuid.uuid4()
    candidate_id = candidate_id or uuid.uuid4()
    request = {
        "interviewer_ids": [str(i) for i in required],
        "pools": [
            {"pool_id": str(p), "member_ids": [str(m) for m in members], "k": k}
            for p, members, k in pools
        ],
        "room": room or {"kind": "remote", "room_ids": [], "min_capacity": None},
        "duration_minutes": duration_minutes,
        "buffer_before_minutes": buffer_minutes,
        "buffer_after_minutes": buffer_minutes,
        "earliest": iso(earliest),
        "latest": iso(latest),
        "min_notice_minutes": 0,
        "step_minutes": 30,
        "time_zone": time_zone,
        "windows": [],
        "windows_required": False,
        "count": 3,
        "spread_days": False,
    }
    stored = [
        {
            "index": index,
            "starts_at": iso(s.starts_at),
            "ends_at": iso(s.ends_at),
            "interviewer_ids": [str(i) for i in s.interviewer_ids],
            "room_id": str(s.room_id) if s.room_id else None,
            "score": 0.9,
            "reasons": [],
        }
        for index, s in enumerate(suggestions)
    ]
    await db.execute(
        """INSERT INTO scheduler.proposals
               (id, application_id, job_id, candidate_id, request, suggestions, diagnostics,
                created_by, created_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, 'hr-alice', $8)""",
        proposal_id,
        application_id,
        job_id,
        candidate_id,
        json.dumps(request),
        json.dumps(stored),
        json.dumps({"considered": 1, "feasible": 1, "refused": {}, "message": "ok"}),
        NOW,
    )
    return proposal_id, application_id, candidate_id


async def world(
    db: asyncpg.Connection,
    *,
    owners: Sequence[str] = (HR,),
    interviewers: int = 1,
    room: bool = True,
    starts_at: datetime = SLOT_START,
    ends_at: datetime = SLOT_END,
    time_zone: str = "Asia/Shanghai",
    job_id: uuid.UUID | None = None,
    interviewer_ids: Sequence[uuid.UUID] | None = None,
    room_id: uuid.UUID | None = None,
    extra: Sequence[Suggested] = (),
) -> World:
    """A job, interviewers and a room, and a proposal whose first suggestion is the slot."""
    job_id = job_id or await insert_job(db, owners=owners)
    people = list(interviewer_ids or [await insert_interviewer(db) for _ in range(interviewers)])
    if room and room_id is None:
        room_id = await insert_room(db)
    proposal_id, application_id, candidate_id = await insert_proposal(
        db,
        job_id=job_id,
        suggestions=[Suggested(starts_at, ends_at, people, room_id), *extra],
        required=people,
        room={"kind": "rooms", "room_ids": [str(room_id)], "min_capacity": None}
        if room_id
        else None,
        time_zone=time_zone,
    )
    return World(job_id, application_id, candidate_id, proposal_id, people, room_id)


async def insert_invitation(
    db: asyncpg.Connection,
    w: World,
    *,
    expires_at: datetime = NOW + timedelta(days=30),
    revoked: bool = False,
) -> tuple[uuid.UUID, str]:
    """A live invitation for the world's application with a link; returns (id, token)."""
    invitation_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO scheduler.invitations
               (id, kind, application_id, job_id, candidate_id, candidate_group, proposal_id,
                state, deadline_at, sent_at, version, created_by, created_at, updated_at)
           VALUES ($1, 'live_interview', $2, $3, $4, 'default', $5, 'sent', $6, $7, 1,
                   'hr-alice', $7, $7)""",
        invitation_id,
        w.application_id,
        w.job_id,
        w.candidate_id,
        w.proposal_id,
        NOW + timedelta(days=3),
        NOW,
    )
    token = new_token()
    await db.execute(
        """INSERT INTO scheduler.link_tokens
               (id, token_hash, purpose, subject_id, created_at, expires_at, revoked_at)
           VALUES ($1, $2, 'scheduler_invitation', $3, $4, $5, $6)""",
        uuid.uuid4(),
        hash_token(token),
        str(invitation_id),
        NOW,
        expires_at,
        NOW if revoked else None,
    )
    return invitation_id, token


async def link_interview(
    db: asyncpg.Connection, interview_id: uuid.UUID, invitation_id: uuid.UUID
) -> None:
    """What the invitations area's pick does: the interview booked through the invitation."""
    await db.execute(
        "UPDATE scheduler.interviews SET invitation_id = $2 WHERE id = $1",
        interview_id,
        invitation_id,
    )
    await db.execute(
        "UPDATE scheduler.invitations SET state = 'booked', interview_id = $2 WHERE id = $1",
        invitation_id,
        interview_id,
    )


def link(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def bookings(db: asyncpg.Connection, interview_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            """SELECT resource_kind, resource_id, lower(during) AS start,
                      upper(during) AS "end", active
               FROM scheduler.bookings WHERE interview_id = $1 ORDER BY id""",
            interview_id,
        )
    )


async def events(db: asyncpg.Connection, event_type: str) -> list[dict[str, Any]]:
    """The envelopes of ``scheduler.<event_type>.v1`` in the outbox, oldest first."""
    rows = await db.fetch(
        "SELECT payload FROM scheduler.outbox WHERE event_type = $1 ORDER BY id",
        f"scheduler.{event_type}.v1",
    )
    out = []
    for row in rows:
        payload = row["payload"]
        out.append(json.loads(payload) if isinstance(payload, str) else payload)
    return out


async def reminder_timers(db: asyncpg.Connection, interview_id: uuid.UUID) -> dict[str, Any]:
    rows = await db.fetch(
        """SELECT key, due_at, state FROM scheduler.timers
           WHERE kind = 'interview.reminder' AND key LIKE $1 ORDER BY due_at""",
        f"{interview_id}:%",
    )
    return {row["key"].split(":", 1)[1]: (row["due_at"], row["state"]) for row in rows}


async def book(
    client: Any, proposal_id: uuid.UUID, *, slot_index: int = 0, subject: str = HR
) -> dict[str, Any]:
    """Book a suggestion as HR through the API; the interview as answered."""
    from tests.support.tokens import auth

    response = await client.post(
        f"/v1/proposals/{proposal_id}/bookings",
        json={"slot_index": slot_index},
        headers=auth("hr", subject),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def subject_of(db: asyncpg.Connection, interviewer_id: uuid.UUID) -> str:
    subject: str = await db.fetchval(
        "SELECT subject FROM scheduler.interviewers WHERE id = $1", interviewer_id
    )
    return subject
