"""Arranging the decisions tests: jobs and applications written straight to the database (so
these tests do not depend on how intake creates them), rejection reasons, release policies and
the calls the tests make."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from tests.support.tokens import auth

HR = "hr-alice"
OTHER_HR = "hr-bob"
ADMIN = "admin-zoe"
LEAD = "lead-wang"
DIRECTOR = "director-chen"

STAGES: list[dict[str, Any]] = [
    {"key": "ai_interview", "kind": "ai_interview", "notify_candidate": True},
    {"key": "round_1", "kind": "interview", "notify_candidate": True},
    {"key": "round_2", "kind": "interview", "notify_candidate": False},
    {"key": "offer", "kind": "offer", "notify_candidate": True},
    {"key": "hired", "kind": "hired", "notify_candidate": True},
    {"key": "onboarding", "kind": "evaluation", "notify_candidate": False},
]
STAGE_KEYS = [stage["key"] for stage in STAGES]

REASONS = [
    ("not_qualified", "不符合岗位要求", "Does not meet the requirements"),
    ("failed_interview", "面试未通过", "Did not pass the interview"),
    ("other", "其他原因", "Other reasons"),
]


def _full(stage: dict[str, Any]) -> dict[str, Any]:
    return {"name_zh": stage["key"], "name_en": stage["key"], "sla_days": 2, **stage}


async def seed_reasons(db: asyncpg.Connection) -> None:
    """The seeded reasons (tests empty every table after each test, seeds included)."""
    await db.executemany(
        """INSERT INTO pipeline.rejection_reasons (code, label_zh, label_en, created_at)
           VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING""",
        REASONS,
    )


async def make_job(
    db: asyncpg.Connection,
    *,
    owners: Sequence[str] = (HR,),
    job_type: str = "basic",
    stages: Sequence[dict[str, Any]] = STAGES,
    title: str = "Backend engineer",
) -> uuid.UUID:
    job_id = uuid.uuid4()
    now = datetime.now(UTC)
    await db.execute(
        """INSERT INTO pipeline.jobs (id, title, job_type, owner_ids, stages, version,
                                      created_by, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, 1, $6, $7, $7)""",
        job_id,
        title,
        job_type,
        list(owners),
        json.dumps([_full(stage) for stage in stages]),
        owners[0] if owners else ADMIN,
        now,
    )
    return job_id


async def make_application(
    db: asyncpg.Connection,
    job_id: uuid.UUID,
    *,
    stage_key: str = "ai_interview",
    status: str = "active",
    entered_at: datetime | None = None,
) -> uuid.UUID:
    candidate_id, application_id = uuid.uuid4(), uuid.uuid4()
    now = entered_at or datetime.now(UTC)
    await db.execute(
        """INSERT INTO pipeline.candidates (id, full_name, email_ciphertext, email_index,
                                            created_at, updated_at)
           VALUES ($1, 'Li Lei', $2, $3, $4, $4)""",
        candidate_id,
        b"not-really-encrypted",
        candidate_id.bytes,
        now,
    )
    await db.execute(
        """INSERT INTO pipeline.applications (id, job_id, candidate_id, stage_key, status,
                                              stage_entered_at, version, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, 1, $6, $6)""",
        application_id,
        job_id,
        candidate_id,
        stage_key,
        status,
        now,
    )
    return application_id


async def arrange(
    db: asyncpg.Connection,
    *,
    owners: Sequence[str] = (HR,),
    job_type: str = "basic",
    stage_key: str = "ai_interview",
    entered_at: datetime | None = None,
) -> tuple[uuid.UUID, uuid.UUID]:
    """A job and one application in it: (job id, application id)."""
    job_id = await make_job(db, owners=owners, job_type=job_type)
    application_id = await make_application(db, job_id, stage_key=stage_key, entered_at=entered_at)
    return job_id, application_id


async def put_policy(
    client: httpx.AsyncClient,
    job_type: str,
    *,
    mode: str = "approval",
    approvers: Sequence[str] = (LEAD, DIRECTOR),
    sla_hours: int = 24,
    escalate_to: Sequence[str] = (),
) -> dict[str, Any]:
    response = await client.put(
        f"/v1/release-policies/{job_type}",
        json={
            "mode": mode,
            "approver_ids": list(approvers),
            "step_sla_hours": sla_hours,
            "escalate_to": list(escalate_to),
        },
        headers=auth("admin", ADMIN),
    )
    assert response.status_code in (200, 201), response.text
    policy: dict[str, Any] = response.json()
    return policy


async def transition(
    client: httpx.AsyncClient,
    application_id: uuid.UUID | str,
    body: dict[str, Any],
    *,
    if_match: str | None = None,
    role: str = "hr",
    sub: str = HR,
) -> httpx.Response:
    headers = auth(role, sub)
    if if_match is not None:
        headers["If-Match"] = if_match
    return await client.post(
        f"/v1/applications/{application_id}/transitions", json=body, headers=headers
    )


async def decide(
    client: httpx.AsyncClient,
    application_id: uuid.UUID | str,
    body: dict[str, Any],
    *,
    role: str = "hr",
    sub: str = HR,
) -> httpx.Response:
    return await client.post(
        f"/v1/applications/{application_id}/results", json=body, headers=auth(role, sub)
    )


async def approve(
    client: httpx.AsyncClient, result_id: str, *, sub: str, comment: str | None = None
) -> httpx.Response:
    body = {} if comment is None else {"comment": comment}
    return await client.post(f"/v1/results/{result_id}/approve", json=body, headers=auth("hr", sub))


async def decline(
    client: httpx.AsyncClient, result_id: str, *, sub: str, comment: str = "Not yet."
) -> httpx.Response:
    return await client.post(
        f"/v1/results/{result_id}/decline", json={"comment": comment}, headers=auth("hr", sub)
    )


async def outbox(db: asyncpg.Connection, event_type: str | None = None) -> list[dict[str, Any]]:
    rows = await db.fetch("SELECT event_type, payload FROM pipeline.outbox ORDER BY id")
    events = [{"event_type": row["event_type"], **json.loads(row["payload"])} for row in rows]
    if event_type is None:
        return events
    return [event for event in events if event["event_type"] == event_type]


async def application_row(db: asyncpg.Connection, application_id: uuid.UUID) -> asyncpg.Record:
    row = await db.fetchrow("SELECT * FROM pipeline.applications WHERE id = $1", application_id)
    assert row is not None
    return row
