"""Results: decisions released at once, at a set time or after approval, by release policy."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from pipeline.app import spec as pipeline_spec
from shared.clock import ManualClock
from tests.pipeline.decision_fixtures import (
    ADMIN,
    DIRECTOR,
    HR,
    LEAD,
    OTHER_HR,
    application_row,
    arrange,
    decide,
    outbox,
    put_policy,
    seed_reasons,
    transition,
)
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STAGE_CHANGED = "pipeline.stage_changed.v1"
RESULT_RELEASED = "pipeline.result_released.v1"
APPROVAL_REQUESTED = "pipeline.approval_requested.v1"
MANUAL_TIMERS: dict[str, Any] = {"run_timers": True, "timer_poll_interval_s": 3600}


@pytest.fixture(autouse=True)
async def _reasons(db: asyncpg.Connection) -> None:
    await seed_reasons(db)


@pytest.fixture
async def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def timed(clock: ManualClock) -> AsyncIterator[Running]:
    """The pipeline with a manual clock and timers that fire only when a test ticks them."""
    async with api(pipeline_spec, clock=clock, **MANUAL_TIMERS) as service:
        yield service


async def _timers(db: asyncpg.Connection, kind: str) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT key, due_at, state FROM pipeline.timers WHERE kind = $1 ORDER BY id", kind
        )
    )


async def test_result_under_an_immediate_policy_is_applied_and_released_at_once(
    timed: Running, db: asyncpg.Connection
) -> None:
    job_id, application_id = await arrange(db)

    response = await decide(
        timed.client,
        application_id,
        {
            "decision": "advance",
            "score": "86.5",
            "dimension_scores": {"communication": 90, "coding": "82.25"},
            "internal_note": "Strong system design.",
            "candidate_message": "See you in the first round.",
        },
    )

    assert response.status_code == 201, response.text
    result = response.json()
    assert response.headers["location"] == f"/v1/results/{result['id']}"
    assert result["state"] == "released"
    assert result["policy_mode"] == "immediate"
    assert result["released_at"] == "2026-03-02T09:00:00Z"
    assert (result["stage_key"], result["to_stage"]) == ("ai_interview", "round_1")
    assert result["score"] == 86.5
    assert result["dimension_scores"] == {"communication": 90, "coding": 82.25}
    assert result["internal_note"] == "Strong system design."
    assert result["candidate_message"] == "See you in the first round."
    assert (result["created_by"], result["steps"]) == (HR, [])
    application = await application_row(db, application_id)
    assert (application["stage_key"], application["version"]) == ("round_1", 2)
    [changed] = await outbox(db, STAGE_CHANGED)
    assert changed["data"]["result_id"] == result["id"]
    assert changed["data"]["actor"] == {"kind": "hr", "id": HR}
    [released] = await outbox(db, RESULT_RELEASED)
    assert released["subject"] == result["id"]
    assert released["data"] == {
        "result_id": result["id"],
        "application_id": str(application_id),
        "job_id": str(job_id),
        "candidate_id": str(application["candidate_id"]),
        "decision": "advance",
        "stage": {"key": "ai_interview", "kind": "ai_interview"},
        "to_stage": {"key": "round_1", "kind": "interview"},
        "reason_code": None,
        "policy_mode": "immediate",
        "released_at": "2026-03-02T09:00:00Z",
    }


async def test_rejection_result_carries_its_reason_to_the_application(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    _, application_id = await arrange(db)

    response = await decide(
        pipeline.client,
        application_id,
        {"decision": "reject", "reason_code": "failed_interview"},
    )

    assert response.json()["state"] == "released"
    application = await application_row(db, application_id)
    assert (application["status"], application["rejection_reason"]) == (
        "rejected",
        "failed_interview",
    )
    [released] = await outbox(db, RESULT_RELEASED)
    assert released["data"]["reason_code"] == "failed_interview"


async def test_result_with_a_later_release_time_waits_for_it(
    timed: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    _, application_id = await arrange(db)
    release_at = T0 + timedelta(hours=3)

    response = await decide(
        timed.client,
        application_id,
        {"decision": "move", "to_stage": "offer", "release_at": release_at.isoformat()},
    )

    result = response.json()
    assert result["state"] == "scheduled"
    assert result["expected_by"] == result["release_at"] == "2026-03-02T12:00:00Z"
    assert (await application_row(db, application_id))["stage_key"] == "ai_interview"
    assert await outbox(db) == []

    clock.advance(timedelta(hours=2, minutes=59))
    assert await timed.runtime.tick_timers() == 0
    clock.advance(timedelta(minutes=1))
    assert await timed.runtime.tick_timers() == 1

    released = await timed.client.get(f"/v1/results/{result['id']}", headers=auth())
    assert released.json()["state"] == "released"
    assert released.json()["released_at"] == "2026-03-02T12:00:00Z"
    assert (await application_row(db, application_id))["stage_key"] == "offer"
    [changed] = await outbox(db, STAGE_CHANGED)
    assert changed["data"]["actor"] == {"kind": "system", "id": None}
    assert len(await outbox(db, RESULT_RELEASED)) == 1


async def test_result_with_a_past_release_time_is_released_now(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    _, application_id = await arrange(db)

    response = await decide(
        pipeline.client,
        application_id,
        {"decision": "hire", "release_at": "2020-01-01T00:00:00+08:00"},
    )

    assert response.json()["state"] == "released"
    assert (await application_row(db, application_id))["status"] == "hired"


async def test_result_under_an_approval_policy_waits_for_the_first_approver(
    timed: Running, db: asyncpg.Connection
) -> None:
    await put_policy(timed.client, "core", approvers=[LEAD, DIRECTOR], sla_hours=8)
    job_id, application_id = await arrange(db, job_type="core")

    response = await decide(timed.client, application_id, {"decision": "hire"})

    result = response.json()
    assert response.status_code == 201
    assert result["state"] == "pending_approval"
    assert result["policy_mode"] == "approval"
    assert result["released_at"] is None
    assert result["expected_by"] == "2026-03-03T01:00:00Z"  # two steps of 8 hours
    assert [
        (s["position"], s["approver_id"], s["state"], s["due_at"]) for s in result["steps"]
    ] == [
        (1, LEAD, "pending", "2026-03-02T17:00:00Z"),
        (2, DIRECTOR, "waiting", None),
    ]
    assert (await application_row(db, application_id))["status"] == "active"
    assert await outbox(db, STAGE_CHANGED) == []
    assert await outbox(db, RESULT_RELEASED) == []
    [requested] = await outbox(db, APPROVAL_REQUESTED)
    assert requested["data"] == {
        "result_id": result["id"],
        "application_id": str(application_id),
        "job_id": str(job_id),
        "approver_id": LEAD,
        "position": 1,
        "due_at": "2026-03-02T17:00:00Z",
        "candidate_id": requested["data"]["candidate_id"],
        "expected_by": "2026-03-03T01:00:00Z",
    }
    assert requested["data"]["candidate_id"] == str(
        await db.fetchval(
            "SELECT candidate_id FROM pipeline.applications WHERE id = $1", application_id
        )
    )
    [escalation] = await _timers(db, "approval_escalation")
    assert escalation["due_at"] == T0 + timedelta(hours=8)
    assert escalation["state"] == "pending"


async def test_immediate_policy_with_one_approver_waits_for_that_approver(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    await put_policy(pipeline.client, "intern", mode="immediate", approvers=[LEAD])
    _, application_id = await arrange(db, job_type="intern")

    response = await decide(pipeline.client, application_id, {"decision": "advance"})

    assert response.json()["state"] == "pending_approval"
    assert response.json()["policy_mode"] == "immediate"
    assert [s["approver_id"] for s in response.json()["steps"]] == [LEAD]


async def test_only_one_result_per_application_may_be_open(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    await put_policy(pipeline.client, "core")
    _, application_id = await arrange(db, job_type="core")
    first = await decide(pipeline.client, application_id, {"decision": "advance"})

    second = await decide(pipeline.client, application_id, {"decision": "hire"})

    problem = assert_problem(second, 409, "result-open")
    assert problem["result_id"] == first.json()["id"]
    assert await db.fetchval("SELECT count(*) FROM pipeline.results") == 1


async def test_direct_transition_waits_while_a_scheduled_result_is_open(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    _, application_id = await arrange(db)
    await decide(
        pipeline.client,
        application_id,
        {"decision": "advance", "release_at": "2099-01-01T00:00:00Z"},
    )

    response = await transition(pipeline.client, application_id, {"transition": "advance"})

    assert_problem(response, 409, "result-open")


async def test_withdrawal_cancels_the_open_result(
    timed: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    await put_policy(timed.client, "core")
    _, application_id = await arrange(db, job_type="core")
    result = (await decide(timed.client, application_id, {"decision": "advance"})).json()

    withdrawn = await transition(timed.client, application_id, {"transition": "withdraw"})

    assert withdrawn.json()["status"] == "withdrawn"
    cancelled = (await timed.client.get(f"/v1/results/{result['id']}", headers=auth())).json()
    assert cancelled["state"] == "cancelled"
    assert [s["state"] for s in cancelled["steps"]] == ["skipped", "skipped"]
    [escalation] = await _timers(db, "approval_escalation")
    assert escalation["state"] == "cancelled"
    clock.advance(timedelta(days=3))
    assert await timed.runtime.tick_timers() == 0


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({"decision": "move", "to_stage": "ai_interview"}, 409, "transition-refused"),
        ({"decision": "move", "to_stage": "nowhere"}, 409, "transition-refused"),
        ({"decision": "reject", "reason_code": "nope"}, 422, "unknown-rejection-reason"),
    ],
)
async def test_decision_that_cannot_be_applied_is_refused_when_made(
    pipeline: Running, db: asyncpg.Connection, body: dict[str, Any], status: int, slug: str
) -> None:
    await put_policy(pipeline.client, "core")
    _, application_id = await arrange(db, job_type="core")

    response = await decide(pipeline.client, application_id, body)

    assert_problem(response, status, slug)
    assert await db.fetchval("SELECT count(*) FROM pipeline.results") == 0
    assert await outbox(db) == []


async def test_decision_about_an_application_that_is_no_longer_active_is_refused(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    _, application_id = await arrange(db)
    await transition(pipeline.client, application_id, {"transition": "withdraw"})

    response = await decide(pipeline.client, application_id, {"decision": "advance"})

    problem = assert_problem(response, 409, "transition-refused")
    assert problem["allowed"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "move"}, "to_stage"),
        ({"decision": "advance", "to_stage": "offer"}, "to_stage"),
        ({"decision": "reject"}, "reason_code"),
        ({"decision": "hire", "reason_code": "other"}, "reason_code"),
        ({"decision": "withdraw"}, "decision"),
        ({"decision": "advance", "score": "1000.5"}, "score"),
        ({"decision": "advance", "dimension_scores": {"x": -1}}, "dimension_scores.x"),
        ({"decision": "advance", "release_at": "2026-03-05T10:00:00"}, "release_at"),
        ({"decision": "advance", "internal_note": "x" * 4001}, "internal_note"),
        ({"decision": "advance", "secret": True}, "secret"),
    ],
)
async def test_invalid_result_is_refused_naming_the_field(
    pipeline: Running, db: asyncpg.Connection, body: dict[str, Any], field: str
) -> None:
    _, application_id = await arrange(db)

    response = await decide(pipeline.client, application_id, body)

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == [field]


async def test_creating_a_result_access_matrix(pipeline: Running, db: asyncpg.Connection) -> None:
    await put_policy(pipeline.client, "core", approvers=[LEAD])
    _, application_id = await arrange(db, job_type="core")
    body = {"decision": "advance"}

    other_hr = await decide(pipeline.client, application_id, body, sub=OTHER_HR)
    approver = await decide(pipeline.client, application_id, body, sub=LEAD)
    interviewer = await decide(
        pipeline.client, application_id, body, role="interviewer", sub="iv-dan"
    )
    anonymous = await pipeline.client.post(f"/v1/applications/{application_id}/results", json=body)
    assert_problem(other_hr, 404, "not-found")
    assert_problem(approver, 404, "not-found")  # naming in a policy is no access to a job
    assert_problem(interviewer, 403, "forbidden")
    assert_problem(anonymous, 401, "unauthorized")
    assert await db.fetchval("SELECT count(*) FROM pipeline.results") == 0

    admin = await decide(pipeline.client, application_id, body, role="admin", sub=ADMIN)
    assert admin.status_code == 201
    assert admin.json()["created_by"] == ADMIN


async def test_creating_a_result_is_safe_to_retry_with_an_idempotency_key(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    _, application_id = await arrange(db)
    headers = {**auth(), "Idempotency-Key": "decide-1"}
    url = f"/v1/applications/{application_id}/results"

    first = await pipeline.client.post(url, json={"decision": "advance"}, headers=headers)
    again = await pipeline.client.post(url, json={"decision": "advance"}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert (await application_row(db, application_id))["stage_key"] == "round_1"


async def test_owner_cancels_an_open_result_and_may_decide_again(
    timed: Running, db: asyncpg.Connection
) -> None:
    _, application_id = await arrange(db)
    result = (
        await decide(
            timed.client,
            application_id,
            {"decision": "advance", "release_at": "2026-03-03T09:00:00Z"},
        )
    ).json()

    cancelled = await timed.client.post(f"/v1/results/{result['id']}/cancel", headers=auth())
    again = await timed.client.post(f"/v1/results/{result['id']}/cancel", headers=auth())
    new = await decide(timed.client, application_id, {"decision": "hire"})

    assert cancelled.json()["state"] == "cancelled"
    assert_problem(again, 409, "result-not-open")
    [release] = await _timers(db, "result_release")
    assert release["state"] == "cancelled"
    assert new.json()["state"] == "released"


async def test_cancelling_a_result_access_matrix(pipeline: Running, db: asyncpg.Connection) -> None:
    await put_policy(pipeline.client, "core", approvers=[LEAD])
    _, application_id = await arrange(db, job_type="core")
    result = (await decide(pipeline.client, application_id, {"decision": "advance"})).json()
    url = f"/v1/results/{result['id']}/cancel"

    approver = await pipeline.client.post(url, headers=auth("hr", LEAD))
    other_hr = await pipeline.client.post(url, headers=auth("hr", OTHER_HR))
    interviewer = await pipeline.client.post(url, headers=auth("interviewer", "iv-dan"))
    anonymous = await pipeline.client.post(url)
    assert_problem(approver, 403, "forbidden")
    assert_problem(other_hr, 404, "not-found")
    assert_problem(interviewer, 403, "forbidden")
    assert_problem(anonymous, 401, "unauthorized")

    admin = await pipeline.client.post(url, headers=auth("admin", ADMIN))
    assert admin.json()["state"] == "cancelled"


async def test_reading_results_access_matrix(pipeline: Running, db: asyncpg.Connection) -> None:
    await put_policy(pipeline.client, "core", approvers=[LEAD])
    _, application_id = await arrange(db, job_type="core")
    result = (await decide(pipeline.client, application_id, {"decision": "advance"})).json()
    one = f"/v1/results/{result['id']}"
    listed = f"/v1/applications/{application_id}/results"

    for url in (one, listed):
        owner = await pipeline.client.get(url, headers=auth())
        admin = await pipeline.client.get(url, headers=auth("admin", ADMIN))
        approver = await pipeline.client.get(url, headers=auth("hr", LEAD))
        other_hr = await pipeline.client.get(url, headers=auth("hr", OTHER_HR))
        interviewer = await pipeline.client.get(url, headers=auth("interviewer", "iv-dan"))
        anonymous = await pipeline.client.get(url)
        assert owner.status_code == admin.status_code == approver.status_code == 200
        assert_problem(other_hr, 404, "not-found")
        assert_problem(interviewer, 403, "forbidden")
        assert_problem(anonymous, 401, "unauthorized")

    missing = await pipeline.client.get(f"/v1/results/{uuid.uuid4()}", headers=auth())
    assert_problem(missing, 404, "not-found")
    # Being named in a chain opens that result, not the application itself.
    application = await pipeline.client.get(
        f"/v1/applications/{application_id}", headers=auth("hr", LEAD)
    )
    assert_problem(application, 404, "not-found")


async def test_an_approver_sees_only_the_results_that_name_them(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    _, application_id = await arrange(db)
    await decide(pipeline.client, application_id, {"decision": "advance"})
    await put_policy(pipeline.client, "basic", approvers=[LEAD])
    named = (await decide(pipeline.client, application_id, {"decision": "advance"})).json()

    as_approver = await pipeline.client.get(
        f"/v1/applications/{application_id}/results", headers=auth("hr", LEAD)
    )
    as_owner = await pipeline.client.get(
        f"/v1/applications/{application_id}/results", headers=auth()
    )

    assert [r["id"] for r in as_approver.json()["items"]] == [named["id"]]
    assert len(as_owner.json()["items"]) == 2
    assert as_owner.json()["items"][0]["id"] == named["id"]  # newest first


async def test_results_of_an_application_page_newest_first(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    _, application_id = await arrange(db)
    ids = []
    for _ in range(3):
        ids.append((await decide(pipeline.client, application_id, {"decision": "advance"})).json())

    first = await pipeline.client.get(
        f"/v1/applications/{application_id}/results?limit=2", headers=auth()
    )
    rest = await pipeline.client.get(
        f"/v1/applications/{application_id}/results?limit=2&cursor={first.json()['next_cursor']}",
        headers=auth(),
    )

    seen = [r["to_stage"] for r in first.json()["items"] + rest.json()["items"]]
    assert seen == ["offer", "round_2", "round_1"]
    assert rest.json()["next_cursor"] is None


async def test_listing_results_of_an_unknown_application_is_not_found(
    pipeline: Running,
) -> None:
    response = await pipeline.client.get(f"/v1/applications/{uuid.uuid4()}/results", headers=auth())

    assert_problem(response, 404, "not-found")


async def test_scheduled_result_that_no_longer_fits_is_cancelled_at_release_time(
    timed: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    job_id, application_id = await arrange(db)
    result = (
        await decide(
            timed.client,
            application_id,
            {"decision": "move", "to_stage": "offer", "release_at": "2026-03-02T10:00:00Z"},
        )
    ).json()
    # The job's stages were edited meanwhile: its offer stage is gone.
    await db.execute(
        """UPDATE pipeline.jobs SET stages = (
               SELECT jsonb_agg(s) FROM jsonb_array_elements(stages) s
               WHERE s->>'key' <> 'offer')
           WHERE id = $1""",
        job_id,
    )

    clock.advance(timedelta(hours=1))
    assert await timed.runtime.tick_timers() == 1

    after = (await timed.client.get(f"/v1/results/{result['id']}", headers=auth())).json()
    assert after["state"] == "cancelled"
    assert (await application_row(db, application_id))["stage_key"] == "ai_interview"
    assert await outbox(db) == []
    [timer] = await _timers(db, "result_release")
    assert timer["state"] == "done"
