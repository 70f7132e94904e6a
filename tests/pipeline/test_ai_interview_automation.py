"""After an AI interview's result: the job's thresholds may move the application on through a
result (under the job type's release policy); an AI score never rejects unless the job allows
it. Once through the real broker, otherwise by calling the handler in a unit of work."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from aio_pika.abc import AbstractRobustConnection

from pipeline.ai_interviews.automation import REJECT_REASON, decide_on_score
from pipeline.ai_interviews.consumers import HANDLER
from pipeline.ai_interviews.models import AiInterview
from pipeline.app import spec as pipeline_spec
from shared.events.pipeline import AiInterviewCompletedV1, AiInterviewReportReadyV1
from tests.pipeline.ai_interviews_support import (
    MANUAL_TIMERS,
    Arranged,
    arrange_application,
    delivery,
    new_secret,
    outbox,
    post_and_process,
    post_delivery,
)
from tests.support.running import Running, api, running, wait_for

SECRET = new_secret()


@pytest.fixture
async def vendor_api() -> AsyncIterator[Running]:
    async with api(pipeline_spec, vendor_secrets={"acme": [SECRET]}, **MANUAL_TIMERS) as service:
        yield service


async def _deliver_and_decide(
    service: Running, arranged: Arranged, kind: str = "completed", score: float = 85
) -> None:
    """Post a result delivery, apply it (the timer), then run the handler as the consumer
    would."""
    response = await post_and_process(
        service, SECRET, delivery(kind, arranged.application_id, score=score)
    )
    assert response.status_code == 202, response.text
    async with service.runtime.db.transaction() as session:
        interview_id = await session.scalar(
            sa.select(AiInterview.id).where(AiInterview.application_id == arranged.application_id)
        )
    assert interview_id is not None
    await _decide(service, arranged.application_id, interview_id)


async def _decide(service: Running, application_id: uuid.UUID, interview_id: uuid.UUID) -> None:
    runtime = service.runtime
    async with runtime.db.sessionmaker() as session, session.begin():
        await decide_on_score(
            unit=runtime.unit(session), application_id=application_id, interview_id=interview_id
        )


async def _application(db: asyncpg.Connection, arranged: Arranged) -> asyncpg.Record:
    row = await db.fetchrow(
        "SELECT stage_key, status, version FROM pipeline.applications WHERE id = $1",
        arranged.application_id,
    )
    assert row is not None
    return row


async def _results(db: asyncpg.Connection, arranged: Arranged) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        "SELECT * FROM pipeline.results WHERE application_id = $1 ORDER BY created_at",
        arranged.application_id,
    )
    return rows


async def _stage_changes(db: asyncpg.Connection) -> list[dict[str, Any]]:
    return await outbox(db, prefix="pipeline.stage_changed")


async def _add_rejection_reason(db: asyncpg.Connection) -> None:
    await db.execute(
        """INSERT INTO pipeline.rejection_reasons (code, label_zh, label_en, created_at)
           VALUES ($1, 'AI面试未通过', 'Did not pass the AI interview', now())
           ON CONFLICT (code) DO UPDATE SET active = true""",
        REJECT_REASON,
    )


async def _approval_policy(db: asyncpg.Connection, job_type: str) -> None:
    await db.execute(
        """INSERT INTO pipeline.release_policies (job_type, mode, approver_ids, updated_by,
                                                   updated_at)
           VALUES ($1, 'approval', ARRAY['hr-lead'], 'admin-1', now())
           ON CONFLICT (job_type) DO UPDATE SET mode = excluded.mode,
                                                approver_ids = excluded.approver_ids""",
        job_type,
    )


# --- through the broker -----------------------------------------------------------------


async def test_a_completed_interview_over_the_threshold_advances_through_the_broker(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    arranged = await arrange_application(db, advance_min=Decimal(80))
    async with running(pipeline_spec, vendor_secrets={"acme": [SECRET]}) as pipeline:
        response = await post_delivery(
            pipeline.client, SECRET, delivery("completed", arranged.application_id, score=85)
        )
        assert response.status_code == 202, response.text

        async def moved() -> bool:
            stage_key: str = (await _application(db, arranged))["stage_key"]
            return stage_key == "round_1"

        await wait_for(moved, timeout=20, what="the application to advance")
        handled = await db.fetch(
            "SELECT handler, event_type FROM pipeline.inbox WHERE handler = $1", HANDLER
        )

    assert [(r["handler"], r["event_type"]) for r in handled] == [
        (HANDLER, AiInterviewCompletedV1.event_type)
    ]
    [result] = await _results(db, arranged)
    assert (result["decision"], result["state"], result["created_by"]) == (
        "advance",
        "released",
        "ai_interview",
    )
    assert result["score"] == Decimal("85.00")
    [change] = await _stage_changes(db)
    assert change["data"]["actor"] == {"kind": "system", "id": "ai_interview"}
    assert change["data"]["from_stage"]["key"] == "ai_interview"
    assert change["data"]["to_stage"]["key"] == "round_1"


# --- the handler in a unit of work ------------------------------------------------------


async def test_a_score_at_the_threshold_advances_and_the_result_is_released_at_once(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db, advance_min=Decimal(80))

    await _deliver_and_decide(vendor_api, arranged, score=80)

    assert (await _application(db, arranged))["stage_key"] == "round_1"
    [result] = await _results(db, arranged)
    assert result["state"] == "released"
    assert "Automatic" in result["internal_note"]
    assert [e["event_type"] for e in await outbox(db, prefix="pipeline.result_released")] == [
        "pipeline.result_released.v1"
    ]


async def test_the_report_after_completion_does_not_decide_a_second_time(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db, advance_min=Decimal(80), job_type="core")
    await _approval_policy(db, "core")

    await _deliver_and_decide(vendor_api, arranged, "completed", score=85)
    await _deliver_and_decide(vendor_api, arranged, "report_ready", score=90)

    [result] = await _results(db, arranged)
    assert result["state"] == "pending_approval"


async def test_under_an_approval_policy_the_advance_waits_for_the_approvers(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db, advance_min=Decimal(80), job_type="core")
    await _approval_policy(db, "core")

    await _deliver_and_decide(vendor_api, arranged, score=95)

    assert (await _application(db, arranged))["stage_key"] == "ai_interview"
    [result] = await _results(db, arranged)
    assert (result["decision"], result["state"]) == ("advance", "pending_approval")
    assert await _stage_changes(db) == []


async def test_a_low_score_never_rejects_without_the_jobs_rejection_threshold(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db, advance_min=Decimal(80))
    await _add_rejection_reason(db)

    await _deliver_and_decide(vendor_api, arranged, score=3)

    application = await _application(db, arranged)
    assert (application["stage_key"], application["status"]) == ("ai_interview", "active")
    assert await _results(db, arranged) == []
    assert await _stage_changes(db) == []


async def test_without_thresholds_nothing_moves_automatically(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)

    await _deliver_and_decide(vendor_api, arranged, "report_ready", score=100)

    assert (await _application(db, arranged))["stage_key"] == "ai_interview"
    assert await _results(db, arranged) == []


async def test_a_score_below_an_explicit_rejection_threshold_rejects_through_a_result(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db, advance_min=Decimal(80), reject_below=Decimal(30))
    await _add_rejection_reason(db)

    await _deliver_and_decide(vendor_api, arranged, score=12.5)

    assert (await _application(db, arranged))["status"] == "rejected"
    [result] = await _results(db, arranged)
    assert (result["decision"], result["reason_code"], result["state"]) == (
        "reject",
        REJECT_REASON,
        "released",
    )
    [change] = await _stage_changes(db)
    assert change["data"]["status"] == "rejected"
    assert change["data"]["actor"]["kind"] == "system"


async def test_an_automatic_rejection_waits_for_approvers_under_an_approval_policy(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db, reject_below=Decimal(30), job_type="core")
    await _add_rejection_reason(db)
    await _approval_policy(db, "core")

    await _deliver_and_decide(vendor_api, arranged, score=10)

    assert (await _application(db, arranged))["status"] == "active"
    [result] = await _results(db, arranged)
    assert (result["decision"], result["state"]) == ("reject", "pending_approval")


async def test_without_the_configured_rejection_reason_nothing_is_written(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    await db.execute("DELETE FROM pipeline.rejection_reasons WHERE code = $1", REJECT_REASON)
    arranged = await arrange_application(db, reject_below=Decimal(30))

    await _deliver_and_decide(vendor_api, arranged, score=10)

    assert (await _application(db, arranged))["status"] == "active"
    assert await _results(db, arranged) == []
    assert await _stage_changes(db) == []


async def test_an_application_no_longer_in_its_ai_interview_stage_is_left_alone(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db, advance_min=Decimal(80), stage_key="round_1")

    await _deliver_and_decide(vendor_api, arranged, score=99)

    assert (await _application(db, arranged))["stage_key"] == "round_1"
    assert await _results(db, arranged) == []


async def test_an_application_no_longer_active_is_left_alone(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db, advance_min=Decimal(80))
    await db.execute(
        "UPDATE pipeline.applications SET status = 'withdrawn' WHERE id = $1",
        arranged.application_id,
    )

    await _deliver_and_decide(vendor_api, arranged, score=99)

    assert (await _application(db, arranged))["stage_key"] == "ai_interview"
    assert await _results(db, arranged) == []


async def test_a_decision_people_already_made_about_the_stage_is_not_second_guessed(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db, advance_min=Decimal(80))
    now = datetime.now(UTC)
    await db.execute(
        """INSERT INTO pipeline.results (id, application_id, stage_key, decision, policy_mode,
                                          state, created_by, version, created_at, updated_at)
           VALUES ($1, $2, 'ai_interview', 'advance', 'approval', 'declined', 'hr-alice', 1,
                   $3, $3)""",
        uuid.uuid4(),
        arranged.application_id,
        now,
    )

    await _deliver_and_decide(vendor_api, arranged, score=99)

    assert (await _application(db, arranged))["stage_key"] == "ai_interview"
    assert len(await _results(db, arranged)) == 1


async def test_both_result_events_are_handled_by_the_same_named_handler() -> None:
    handled = {
        event_type: [spec.name for spec in pipeline_spec.handlers.for_type(event_type)]
        for event_type in (AiInterviewCompletedV1.event_type, AiInterviewReportReadyV1.event_type)
    }

    assert handled == {
        AiInterviewCompletedV1.event_type: [HANDLER],
        AiInterviewReportReadyV1.event_type: [HANDLER],
    }


async def test_the_event_the_handler_gets_carries_the_interview_to_read_the_score_from(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    await post_and_process(
        vendor_api, SECRET, delivery("completed", arranged.application_id, score=77)
    )

    [event] = await outbox(db)
    data = AiInterviewCompletedV1.model_validate(event["data"])

    interview = await db.fetchrow(
        "SELECT id, score FROM pipeline.ai_interviews WHERE application_id = $1",
        arranged.application_id,
    )
    assert data.interview_id == interview["id"]
    assert data.score == interview["score"] == Decimal("77.00")
    assert event["data"]["vendor"] == "acme"
