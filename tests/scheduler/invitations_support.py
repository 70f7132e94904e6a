"""Helpers of the invitation tests: the scheduler with a manual clock, a job, an interviewer and
proposals written straight to the database, the outbox and the timers table."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx

from scheduler.app import spec as scheduler_spec
from shared.clock import ManualClock
from tests.scheduler.resources_support import (
    EVERY_DAY_9_TO_6,
    HR,
    NOW,
    insert_interviewer,
    insert_job,
)
from tests.support.running import Running, running
from tests.support.tokens import auth

ADMIN = auth("admin", "admin-zoe")
OWNER = auth("hr", HR)
STRANGER = auth("hr", "hr-bob")
INTERVIEWER = auth("interviewer", "int-ivan")


@asynccontextmanager
async def scheduler_at(clock: ManualClock) -> AsyncIterator[Running]:
    """The scheduler's HTTP side and timers (ticked by the test only), no broker traffic."""
    async with running(
        scheduler_spec,
        clock=clock,
        ready=False,
        run_relay=False,
        run_consumers=False,
        timer_poll_interval_s=3600,
    ) as service:
        yield service


class World:
    """A job owned by ``hr-alice`` and an interviewer free 09:00-18:00 (Shanghai) every day."""

    def __init__(self, db: asyncpg.Connection, service: Running, clock: ManualClock) -> None:
        self.db = db
        self.service = service
        self.clock = clock
        self.client: httpx.AsyncClient = service.client
        self.job_id = uuid.uuid4()
        self.interviewer_id = uuid.uuid4()

    async def setup(self) -> World:
        await insert_job(self.db, job_id=self.job_id)
        self.interviewer_id = await insert_interviewer(self.db, working_hours=EVERY_DAY_9_TO_6)
        return self

    def proposal_request(self, **overrides: Any) -> dict[str, Any]:
        """One hour with the interviewer, remote, in the next five days."""
        return {
            "interviewer_ids": [str(self.interviewer_id)],
            "room": {"kind": "remote"},
            "duration_minutes": 60,
            "earliest": (NOW + timedelta(days=1)).isoformat(),
            "latest": (NOW + timedelta(days=5)).isoformat(),
            "time_zone": "Asia/Shanghai",
            "count": 3,
            **overrides,
        }

    def invitation(self, **overrides: Any) -> dict[str, Any]:
        return {
            "application_id": str(uuid.uuid4()),
            "job_id": str(self.job_id),
            "candidate_id": str(uuid.uuid4()),
            "candidate_group": "default",
            "candidate_time_zone": "Asia/Shanghai",
            "proposal": self.proposal_request(),
            **overrides,
        }

    async def invite(self, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/v1/invitations", json=self.invitation(**overrides), headers=OWNER
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def insert_proposal(
        self, application_id: uuid.UUID, *, starts: list[datetime] | None = None
    ) -> uuid.UUID:
        """A stored proposal with hour-long suggestions (default: tomorrow 10:00 and 14:00
        in Shanghai)."""
        proposal_id = uuid.uuid4()
        starts = starts or [NOW + timedelta(days=1, hours=1), NOW + timedelta(days=1, hours=5)]
        suggestions = [
            {
                "index": index,
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=1)).isoformat(),
                "interviewer_ids": [str(self.interviewer_id)],
                "room_id": None,
                "score": 0.9,
                "reasons": [],
            }
            for index, start in enumerate(starts)
        ]
        request = self.proposal_request()
        request.update(
            {
                "pools": [],
                "room": {"kind": "remote", "room_ids": [], "min_capacity": None},
                "buffer_before_minutes": 0,
                "buffer_after_minutes": 0,
                "min_notice_minutes": 0,
                "step_minutes": 30,
                "windows": [],
                "windows_required": False,
                "spread_days": False,
            }
        )
        await self.db.execute(
            """INSERT INTO scheduler.proposals
                   (id, application_id, job_id, candidate_id, request, suggestions, diagnostics,
                    created_by, created_at)
               VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, '{}'::jsonb, 'test', $7)""",
            proposal_id,
            application_id,
            self.job_id,
            uuid.uuid4(),
            json.dumps(request),
            json.dumps(suggestions),
            NOW,
        )
        return proposal_id

    async def invitation_row(self, invitation_id: str | uuid.UUID) -> asyncpg.Record:
        row = await self.db.fetchrow(
            "SELECT * FROM scheduler.invitations WHERE id = $1", uuid.UUID(str(invitation_id))
        )
        assert row is not None
        return row

    async def tick_until_idle(self) -> int:
        fired = 0
        while (count := await self.service.runtime.tick_timers()) > 0:
            fired += count
        return fired


def candidate(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def events(
    db: asyncpg.Connection, event_type: str, *, subject: str | None = None
) -> list[dict[str, Any]]:
    """The data of the outbox's events of one type, oldest first."""
    rows = await db.fetch(
        """SELECT payload FROM scheduler.outbox
           WHERE event_type = $1 AND ($2::text IS NULL OR subject = $2) ORDER BY id""",
        f"scheduler.{event_type}.v1",
        subject,
    )
    found = []
    for row in rows:
        payload = row["payload"]
        payload = json.loads(payload) if isinstance(payload, str) else payload
        found.append(payload["data"])
    return found


async def pending_timers(db: asyncpg.Connection, invitation_id: str) -> dict[str, datetime]:
    rows = await db.fetch(
        """SELECT key, due_at FROM scheduler.timers
           WHERE key LIKE $1 AND state = 'pending' ORDER BY due_at""",
        f"invitation:{invitation_id}:%",
    )
    return {row["key"].split(":", 2)[2]: row["due_at"] for row in rows}


def start_clock() -> ManualClock:
    return ManualClock(NOW)
