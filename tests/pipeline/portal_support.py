"""Arranging the portal and messages tests: jobs, candidates and applications written straight to
the database (so these tests do not depend on how intake creates them), links issued through the
API, and what the pipeline wrote to its outbox."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from tests.support.tokens import auth

HR = "hr-alice"
OTHER_HR = "hr-bob"
ADMIN = "admin-zoe"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Friday 13 March 2026, 21:30 in Shanghai: an evening before an ordinary weekend.
FRIDAY_EVENING = datetime(2026, 3, 13, 21, 30, tzinfo=SHANGHAI)

STAGES: list[dict[str, Any]] = [
    {"key": "ai_interview", "kind": "ai_interview", "name_zh": "AI面试", "name_en": "AI interview",
     "sla_days": 2, "notify_candidate": True},
    {"key": "round_1", "kind": "interview", "name_zh": "一面", "name_en": "First round",
     "sla_days": 1, "notify_candidate": True},
    {"key": "round_2", "kind": "interview", "name_zh": "二面", "name_en": "Second round",
     "sla_days": 3, "notify_candidate": True},
    {"key": "offer", "kind": "offer", "name_zh": "录用", "name_en": "Offer", "sla_days": 5,
     "notify_candidate": True},
]  # fmt: skip


@dataclass(frozen=True)
class Arranged:
    job_id: uuid.UUID
    application_id: uuid.UUID
    candidate_id: uuid.UUID


async def make_application(
    db: asyncpg.Connection,
    *,
    owners: Sequence[str] = (HR,),
    stages: Sequence[dict[str, Any]] = STAGES,
    stage_key: str | None = None,
    status: str = "active",
    entered_at: datetime = FRIDAY_EVENING,
    created_at: datetime | None = None,
    rejection_reason: str | None = None,
    title: str = "Backend engineer",
) -> Arranged:
    job_id, candidate_id, application_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    created = created_at or entered_at
    await db.execute(
        """INSERT INTO pipeline.jobs (id, title, job_type, owner_ids, stages, version,
                                      created_by, created_at, updated_at)
           VALUES ($1, $2, 'basic', $3, $4::jsonb, 1, $5, $6, $6)""",
        job_id,
        title,
        list(owners),
        json.dumps(list(stages)),
        owners[0] if owners else ADMIN,
        created,
    )
    await db.execute(
        """INSERT INTO pipeline.candidates (id, full_name, email_ciphertext, email_index,
                                            created_at, updated_at)
           VALUES ($1, 'Li Lei', $2, $3, $4, $4)""",
        candidate_id,
        secrets.token_bytes(32),
        secrets.token_bytes(32),
        created,
    )
    await db.execute(
        """INSERT INTO pipeline.applications (id, job_id, candidate_id, stage_key, status,
                                              stage_entered_at, rejection_reason, version,
                                              created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $6)""",
        application_id,
        job_id,
        candidate_id,
        stage_key or stages[0]["key"],
        status,
        entered_at,
        rejection_reason,
        created,
    )
    return Arranged(job_id=job_id, application_id=application_id, candidate_id=candidate_id)


async def record_change(
    db: asyncpg.Connection,
    application_id: uuid.UUID,
    *,
    from_stage: str | None,
    to_stage: str,
    at: datetime,
    version: int,
    status: str = "active",
    transition: str = "advance",
) -> None:
    await db.execute(
        """INSERT INTO pipeline.stage_changes (application_id, job_id, transition, from_stage,
                                               to_stage, status, actor_kind, actor_id, version,
                                               occurred_at)
           SELECT $1, job_id, $2, $3, $4, $5, 'hr', $6, $7, $8
           FROM pipeline.applications WHERE id = $1""",
        application_id,
        transition,
        from_stage,
        to_stage,
        status,
        HR,
        version,
        at,
    )


async def issue_link(
    client: httpx.AsyncClient,
    application_id: uuid.UUID,
    *,
    role: str = "hr",
    sub: str = HR,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/applications/{application_id}/links", json=body, headers=auth(role, sub)
    )
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def outbox(db: asyncpg.Connection, event_type: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT payload FROM pipeline.outbox WHERE event_type = $1 ORDER BY id", event_type
    )
    return [json.loads(row["payload"]) for row in rows]
