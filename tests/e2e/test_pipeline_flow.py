"""The pipeline's decisions and AI interviews reaching the other services, with the four
services running as real processes: an application entering an AI-interview stage gets an
invitation in the scheduler, a signed vendor webhook completes it; a result released at once
moves the application and reaches the timeline, the notifier and the broker."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection
from standardwebhooks.webhooks import Webhook

from tests.e2e.conftest import VENDOR, VENDOR_SECRET, Suite
from tests.e2e.flow import (
    HR,
    apply_to,
    body_when,
    create_job,
    listening,
    move,
    published_event,
    received,
)
from tests.support.running import wait_for

pytestmark = pytest.mark.e2e

AI_STAGES = [
    {
        "key": "screening",
        "kind": "screening",
        "name_zh": "筛选",
        "name_en": "Screening",
        "sla_days": 2,
    },
    {
        "key": "ai_interview",
        "kind": "ai_interview",
        "name_zh": "AI面试",
        "name_en": "AI interview",
        "sla_days": 3,
        "notify_candidate": True,
    },
    {
        "key": "round_1",
        "kind": "interview",
        "name_zh": "一面",
        "name_en": "First round",
        "sla_days": 3,
    },
]


def _signed(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a delivery signed as the vendor signs it (Standard Webhooks)."""
    raw = json.dumps(body).encode()
    webhook_id = f"msg_{uuid.uuid4().hex}"
    at = datetime.now(UTC)
    return raw, {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(VENDOR_SECRET).sign(webhook_id, at, raw.decode()),
    }


async def test_an_ai_interview_stage_opens_an_invitation_that_a_vendor_webhook_completes(
    ready_suite: Suite, http: httpx.AsyncClient
) -> None:
    pipeline, scheduler = ready_suite.url("pipeline"), ready_suite.url("scheduler")
    job = await create_job(http, pipeline, stages=AI_STAGES)
    application = await apply_to(http, pipeline, job, full_name="AI Candidate")
    assert application["stage_key"] == "screening"
    await move(http, pipeline, application, "ai_interview", version=1)

    # `stage_changed` into the AI-interview stage opens an invitation in the scheduler.
    invitations_url = f"{scheduler}/v1/invitations?job_id={job['id']}&kind=ai_interview"
    page = await wait_for(
        lambda: body_when(http, invitations_url, lambda body: bool(body["items"])),
        timeout=15,
        what="the AI-interview invitation in the scheduler",
    )
    (invitation,) = page["items"]
    assert invitation["application_id"] == application["id"]
    assert invitation["candidate_id"] == application["candidate_id"]
    assert invitation["state"] == "sent" and invitation["completed_at"] is None
    board_url = f"{scheduler}/v1/invitations/board?job_id={job['id']}"
    board = (await http.get(board_url, headers=HR)).json()
    assert board["total"] == 1 and board["sent"] == 1

    # The vendor reports the interview completed, signed with the run's secret.
    raw, headers = _signed(
        {
            "type": "completed",
            "application_id": application["id"],
            "interview_id": "iv_e2e",
            "occurred_at": datetime.now(UTC).isoformat(),
            "score": 88.5,
        }
    )
    webhook_url = f"{pipeline}/v1/webhooks/ai-interviews/{VENDOR}"
    accepted = await http.post(webhook_url, content=raw, headers=headers)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["duplicate"] is False
    replayed = await http.post(webhook_url, content=raw, headers=headers)
    assert replayed.status_code == 200 and replayed.json()["duplicate"] is True

    # The pipeline's timer applies it and emits `ai_interview_completed`; the scheduler marks
    # the invitation completed.
    completed = await wait_for(
        lambda: body_when(
            http,
            f"{scheduler}/v1/invitations/{invitation['id']}",
            lambda body: body["state"] == "completed",
        ),
        timeout=15,
        what="the invitation completed in the scheduler",
    )
    assert completed["completed_at"] is not None
    board = (await http.get(board_url, headers=HR)).json()
    assert board["total"] == 1 and board["completed"] == 1 and board["sent"] == 0
    interviews = await http.get(
        f"{pipeline}/v1/applications/{application['id']}/ai-interviews", headers=HR
    )
    assert interviews.status_code == 200, interviews.text
    (interview,) = interviews.json()
    assert interview["status"] == "completed" and interview["external_id"] == "iv_e2e"
    assert float(interview["score"]) == 88.5


async def test_a_result_released_at_once_moves_the_application_for_every_service(
    ready_suite: Suite,
    http: httpx.AsyncClient,
    db: asyncpg.Connection,
    amqp: AbstractRobustConnection,
) -> None:
    pipeline = ready_suite.url("pipeline")
    # The default job type `basic` releases results at once (no approver).
    job = await create_job(http, pipeline, stages=AI_STAGES)
    assert job["job_type"] == "basic"
    application = await apply_to(http, pipeline, job, full_name="Result Candidate")

    async with listening(amqp, ["pipeline.result_released.v1"]) as queue:
        response = await http.post(
            f"{pipeline}/v1/applications/{application['id']}/results",
            json={"decision": "advance", "score": 82, "internal_note": "Clear CV."},
            headers=HR,
        )
        assert response.status_code == 201, response.text
        result = response.json()
        assert result["state"] == "released" and result["stage_key"] == "screening"
        assert result["to_stage"] == "ai_interview"

        messages: list[dict[str, Any]] = []
        released = await wait_for(
            lambda: received(queue, messages, "pipeline.result_released.v1", result["id"]),
            timeout=15,
            what="result_released through the broker",
        )
    assert released["data"]["application_id"] == application["id"]
    assert released["data"]["decision"] == "advance"
    assert released["data"]["policy_mode"] == "immediate"
    assert released["data"]["to_stage"]["key"] == "ai_interview"
    stage_changed = await wait_for(
        lambda: published_event(db, "pipeline", "pipeline.stage_changed.v1", application["id"]),
        timeout=15,
        what="stage_changed relayed from the pipeline's outbox",
    )
    assert stage_changed["data"]["result_id"] == result["id"]

    # `stage_changed` reached the talent pool's timeline and the notifier.
    timeline = await wait_for(
        lambda: body_when(
            http,
            f"{ready_suite.url('talentpool')}/v1/candidates/{application['candidate_id']}"
            "/timeline?kind=stage_changed",
            lambda body: bool(body["items"]),
        ),
        timeout=15,
        what="the stage change on the candidate's timeline",
    )
    (entry,) = timeline["items"]
    assert entry["application_id"] == application["id"]
    assert entry["data"]["transition"] == "advance"
    assert entry["data"]["from_stage"] == "screening"
    assert entry["data"]["to_stage"] == "ai_interview"
    notifications = await wait_for(
        lambda: body_when(
            http,
            (
                f"{ready_suite.url('notifier')}/v1/notifications"
                f"?application_id={application['id']}&kind=stage_passed"
            ),
            lambda body: bool(body["items"]),
        ),
        timeout=15,
        what="the notifier's notification",
    )
    (notification,) = notifications["items"]
    assert notification["kind"] == "stage_passed"
    assert notification["data"]["to_stage"] == "ai_interview"
    assert notification["data"]["next_step_codes"] == ["complete_ai_interview"]
