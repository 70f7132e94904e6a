"""Arranging AI-interview tests: vendor secrets, signed deliveries (signed with the
``standardwebhooks`` package, as a vendor would), and jobs and applications as rows."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from standardwebhooks.webhooks import Webhook

from tests.pipeline.factories import HR, STAGES
from tests.support.running import Running

VENDOR = "acme"
WEBHOOKS = "/v1/webhooks/ai-interviews"
# Timers on, but the scheduler's own interval is an hour so it never ticks between a test's
# steps: a test runs the due timers itself with ``process_deliveries``.
MANUAL_TIMERS: dict[str, Any] = {"run_timers": True, "timer_poll_interval_s": 3600}


def new_secret() -> str:
    """A Standard Webhooks secret, made for this test run only."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signed_headers(
    secret: str, body: bytes, *, webhook_id: str | None = None, at: datetime | None = None
) -> dict[str, str]:
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body.decode()),
    }


def delivery(
    kind: str,
    application_id: uuid.UUID | str,
    *,
    interview_id: str = "iv_1",
    occurred_at: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": kind,
        "application_id": str(application_id),
        "interview_id": interview_id,
        "occurred_at": (occurred_at or datetime(2025, 3, 3, 2, 0, tzinfo=UTC)).isoformat(),
    }
    if kind in ("completed", "report_ready"):
        body["score"] = 80
    if kind == "report_ready":
        body["dimension_scores"] = {"communication": 90, "problem_solving": 70}
        body["report_url"] = "https://vendor.example.com/reports/iv_1"
    body.update(extra)
    return body


async def post_delivery(
    client: httpx.AsyncClient,
    secret: str,
    body: dict[str, Any],
    *,
    vendor: str = VENDOR,
    webhook_id: str | None = None,
    at: datetime | None = None,
) -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = signed_headers(secret, raw, webhook_id=webhook_id, at=at)
    return await client.post(f"{WEBHOOKS}/{vendor}", content=raw, headers=headers)


async def process_deliveries(service: Running) -> int:
    """Apply the accepted deliveries now, as the timer loop does after the webhook's commit."""
    return await service.runtime.tick_timers()


async def post_and_process(
    service: Running, secret: str, body: dict[str, Any], **options: Any
) -> httpx.Response:
    """Post a delivery and, if it was accepted, apply it."""
    response = await post_delivery(service.client, secret, body, **options)
    if response.status_code == 202:
        await process_deliveries(service)
    return response


@dataclass(frozen=True)
class Arranged:
    job_id: uuid.UUID
    application_id: uuid.UUID
    candidate_id: uuid.UUID


async def arrange_application(
    db: asyncpg.Connection,
    *,
    owner: str = HR,
    job_type: str = "basic",
    stage_key: str = "ai_interview",
    advance_min: Decimal | None = None,
    reject_below: Decimal | None = None,
) -> Arranged:
    """A job owned by ``owner`` (the factories' stages: ai_interview, round_1, round_2, offer)
    and one active application in ``stage_key``, written as rows."""
    now = datetime.now(UTC)
    job_id, candidate_id, application_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await db.execute(
        """INSERT INTO pipeline.jobs (id, title, job_type, owner_ids, stages, created_by,
                                       created_at, updated_at, ai_advance_min_score,
                                       ai_reject_below_score)
           VALUES ($1, 'Backend engineer', $2, $3, $4::jsonb, $5, $6, $6, $7, $8)""",
        job_id,
        job_type,
        [owner],
        json.dumps([{**stage, "notify_candidate": False} for stage in STAGES]),
        owner,
        now,
        advance_min,
        reject_below,
    )
    await db.execute(
        """INSERT INTO pipeline.candidates (id, full_name, email_ciphertext, email_index,
                                             created_at, updated_at)
           VALUES ($1, 'Li Lei', $2, $3, $4, $4)""",
        candidate_id,
        secrets.token_bytes(32),
        secrets.token_bytes(32),
        now,
    )
    await db.execute(
        """INSERT INTO pipeline.applications (id, job_id, candidate_id, stage_key, status,
                                               stage_entered_at, version, created_at, updated_at)
           VALUES ($1, $2, $3, $4, 'active', $5, 1, $5, $5)""",
        application_id,
        job_id,
        candidate_id,
        stage_key,
        now,
    )
    return Arranged(job_id=job_id, application_id=application_id, candidate_id=candidate_id)


async def outbox(db: asyncpg.Connection, prefix: str = "pipeline.ai_interview_") -> list[Any]:
    rows = await db.fetch(
        "SELECT event_type, payload FROM pipeline.outbox WHERE event_type LIKE $1 ORDER BY id",
        prefix + "%",
    )
    return [{"event_type": row["event_type"], **json.loads(row["payload"])} for row in rows]
