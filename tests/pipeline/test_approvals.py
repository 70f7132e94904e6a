"""Approval chains: pending lists, approving in turn, declining, release and escalation."""

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
    approve,
    arrange,
    decide,
    decline,
    outbox,
    put_policy,
    seed_reasons,
)
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SLA = 8
STAGE_CHANGED = "pipeline.stage_changed.v1"
RESULT_RELEASED = "pipeline.result_released.v1"
APPROVAL_REQUESTED = "pipeline.approval_requested.v1"
APPROVAL_ESCALATED = "pipeline.approval_escalated.v1"


@pytest.fixture(autouse=True)
async def _reasons(db: asyncpg.Connection) -> None:
    await seed_reasons(db)


@pytest.fixture
async def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def timed(clock: ManualClock) -> AsyncIterator[Running]:
    async with api(
        pipeline_spec, clock=clock, run_timers=True, timer_poll_interval_s=3600
    ) as service:
        yield service


async def _pending(
    service: Running,
    db: asyncpg.Connection,
    *,
    escalate_to: tuple[str, ...] = (DIRECTOR,),
    body: dict[str, Any] | None = None,
    owners: tuple[str, ...] = (HR,),
) -> tuple[uuid.UUID, dict[str, Any]]:
    """An application of a ``core`` job and a result waiting for LEAD, then DIRECTOR."""
    await put_policy(
        service.client, "core", approvers=[LEAD, DIRECTOR], sla_hours=SLA, escalate_to=escalate_to
    )
    _, application_id = await arrange(db, job_type="core", owners=owners)
    response = await decide(service.client, application_id, body or {"decision": "advance"})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return application_id, result


async def _approvals(service: Running, sub: str) -> list[dict[str, Any]]:
    response = await service.client.get("/v1/approvals", headers=auth("hr", sub))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_pending_approvals_list_the_callers_turns_with_application_and_job(
    timed: Running, db: asyncpg.Connection
) -> None:
    application_id, result = await _pending(timed, db)
    job_id = (await application_row(db, application_id))["job_id"]

    lead = await _approvals(timed, LEAD)
    director = await _approvals(timed, DIRECTOR)
    owner = await _approvals(timed, HR)

    assert lead == [
        {
            "result_id": result["id"],
            "position": 1,
            "due_at": "2026-03-02T17:00:00Z",
            "escalated_at": None,
            "decision": "advance",
            "to_stage": None,
            "reason_code": None,
            "requested_by": HR,
            "application_id": str(application_id),
            "stage_key": "ai_interview",
            "job_id": str(job_id),
            "job_title": "Backend engineer",
        }
    ]
    assert director == []  # not their turn yet
    assert owner == []


async def test_pending_approvals_page_soonest_due_first(
    timed: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    _, first = await _pending(timed, db)
    clock.advance(timedelta(hours=1))
    _, second_application = await arrange(db, job_type="core")
    second = (await decide(timed.client, second_application, {"decision": "hire"})).json()

    page = await timed.client.get("/v1/approvals?limit=1", headers=auth("hr", LEAD))
    rest = await timed.client.get(
        f"/v1/approvals?limit=1&cursor={page.json()['next_cursor']}", headers=auth("hr", LEAD)
    )

    assert [i["result_id"] for i in page.json()["items"] + rest.json()["items"]] == [
        first["id"],
        second["id"],
    ]
    assert rest.json()["next_cursor"] is None


async def test_approval_passes_the_turn_to_the_next_approver(
    timed: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    application_id, result = await _pending(timed, db)
    clock.advance(timedelta(hours=2))

    response = await approve(timed.client, result["id"], sub=LEAD, comment="Agreed.")

    assert response.status_code == 200, response.text
    approved = response.json()
    assert approved["state"] == "pending_approval"
    assert [(s["state"], s["comment"], s["decided_at"]) for s in approved["steps"]] == [
        ("approved", "Agreed.", "2026-03-02T11:00:00Z"),
        ("pending", None, None),
    ]
    assert approved["steps"][1]["due_at"] == "2026-03-02T19:00:00Z"
    assert approved["expected_by"] == "2026-03-02T19:00:00Z"
    assert [e["data"]["approver_id"] for e in await outbox(db, APPROVAL_REQUESTED)] == [
        LEAD,
        DIRECTOR,
    ]
    assert await _approvals(timed, LEAD) == []
    assert [a["result_id"] for a in await _approvals(timed, DIRECTOR)] == [result["id"]]
    assert (await application_row(db, application_id))["stage_key"] == "ai_interview"
    timers = await db.fetch(
        "SELECT state FROM pipeline.timers WHERE kind = 'approval_escalation' ORDER BY id"
    )
    assert [t["state"] for t in timers] == ["cancelled", "pending"]


async def test_last_approval_releases_the_result(timed: Running, db: asyncpg.Connection) -> None:
    application_id, result = await _pending(timed, db)
    await approve(timed.client, result["id"], sub=LEAD)

    response = await approve(timed.client, result["id"], sub=DIRECTOR)

    released = response.json()
    assert released["state"] == "released"
    assert released["released_at"] == "2026-03-02T09:00:00Z"
    assert released["to_stage"] == "round_1"
    assert (await application_row(db, application_id))["stage_key"] == "round_1"
    [changed] = await outbox(db, STAGE_CHANGED)
    assert changed["data"]["result_id"] == result["id"]
    assert changed["data"]["actor"] == {"kind": "hr", "id": DIRECTOR}
    [event] = await outbox(db, RESULT_RELEASED)
    assert event["data"]["policy_mode"] == "approval"
    assert event["data"]["to_stage"] == {"key": "round_1", "kind": "interview"}


async def test_last_approval_before_the_release_time_schedules_the_result(
    timed: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    release_at = T0 + timedelta(days=2)
    application_id, result = await _pending(
        timed, db, body={"decision": "hire", "release_at": release_at.isoformat()}
    )
    assert result["expected_by"] == "2026-03-04T09:00:00Z"  # later than the chain's 16 hours
    await approve(timed.client, result["id"], sub=LEAD)

    scheduled = (await approve(timed.client, result["id"], sub=DIRECTOR)).json()

    assert scheduled["state"] == "scheduled"
    assert await outbox(db, RESULT_RELEASED) == []
    clock.set(release_at)
    assert await timed.runtime.tick_timers() == 1
    assert (await application_row(db, application_id))["status"] == "hired"
    assert len(await outbox(db, RESULT_RELEASED)) == 1


async def test_approving_out_of_turn_is_refused(timed: Running, db: asyncpg.Connection) -> None:
    _, result = await _pending(timed, db)

    response = await approve(timed.client, result["id"], sub=DIRECTOR)

    problem = assert_problem(response, 409, "approval-out-of-turn")
    assert problem["position"] == 2
    steps = (await timed.client.get(f"/v1/results/{result['id']}", headers=auth())).json()
    assert [s["state"] for s in steps["steps"]] == ["pending", "waiting"]


async def test_second_approval_of_the_same_step_is_refused(
    timed: Running, db: asyncpg.Connection
) -> None:
    _, result = await _pending(timed, db)
    await approve(timed.client, result["id"], sub=LEAD)

    again = await approve(timed.client, result["id"], sub=LEAD)

    assert_problem(again, 409, "approval-already-decided")
    assert len(await outbox(db, APPROVAL_REQUESTED)) == 2


async def test_approving_a_released_result_again_is_refused(
    timed: Running, db: asyncpg.Connection
) -> None:
    _, result = await _pending(timed, db)
    await approve(timed.client, result["id"], sub=LEAD)
    await approve(timed.client, result["id"], sub=DIRECTOR)

    again = await approve(timed.client, result["id"], sub=DIRECTOR)

    problem = assert_problem(again, 409, "result-not-pending")
    assert problem["state"] == "released"
    assert len(await outbox(db, RESULT_RELEASED)) == 1


async def test_decline_ends_the_chain_and_leaves_the_application_alone(
    timed: Running, db: asyncpg.Connection
) -> None:
    application_id, result = await _pending(timed, db)

    response = await decline(timed.client, result["id"], sub=LEAD, comment="Scores too low.")
    approve_after = await approve(timed.client, result["id"], sub=DIRECTOR)
    new = await decide(timed.client, application_id, {"decision": "move", "to_stage": "round_2"})

    declined = response.json()
    assert declined["state"] == "declined"
    assert [(s["state"], s["comment"]) for s in declined["steps"]] == [
        ("declined", "Scores too low."),
        ("skipped", None),
    ]
    assert_problem(approve_after, 409, "result-not-pending")
    application = await application_row(db, application_id)
    assert (application["stage_key"], application["version"]) == ("ai_interview", 1)
    assert await outbox(db, STAGE_CHANGED) == []
    assert new.status_code == 201
    assert new.json()["state"] == "pending_approval"


async def test_decline_needs_a_comment(timed: Running, db: asyncpg.Connection) -> None:
    _, result = await _pending(timed, db)

    response = await timed.client.post(
        f"/v1/results/{result['id']}/decline", json={}, headers=auth("hr", LEAD)
    )

    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["comment"]


@pytest.mark.parametrize("action", ["approve", "decline"])
async def test_deciding_an_approval_access_matrix(
    timed: Running, db: asyncpg.Connection, action: str
) -> None:
    _, result = await _pending(timed, db)
    url = f"/v1/results/{result['id']}/{action}"
    body = {"comment": "ok"}

    owner = await timed.client.post(url, json=body, headers=auth())
    admin = await timed.client.post(url, json=body, headers=auth("admin", ADMIN))
    other_hr = await timed.client.post(url, json=body, headers=auth("hr", OTHER_HR))
    interviewer = await timed.client.post(url, json=body, headers=auth("interviewer", "iv-dan"))
    anonymous = await timed.client.post(url, json=body)
    missing = await timed.client.post(
        f"/v1/results/{uuid.uuid4()}/{action}", json=body, headers=auth("hr", LEAD)
    )
    assert_problem(owner, 403, "forbidden")  # owning the job is not being an approver
    assert_problem(admin, 403, "forbidden")
    assert_problem(other_hr, 404, "not-found")
    assert_problem(interviewer, 403, "forbidden")
    assert_problem(anonymous, 401, "unauthorized")
    assert_problem(missing, 404, "not-found")

    approver = await timed.client.post(url, json=body, headers=auth("hr", LEAD))
    assert approver.status_code == 200


async def test_approver_who_is_an_admin_decides_like_any_approver(
    timed: Running, db: asyncpg.Connection
) -> None:
    await put_policy(timed.client, "core", approvers=[ADMIN])
    _, application_id = await arrange(db, job_type="core")
    result = (await decide(timed.client, application_id, {"decision": "advance"})).json()

    response = await timed.client.post(
        f"/v1/results/{result['id']}/approve", json={}, headers=auth("admin", ADMIN)
    )

    assert response.json()["state"] == "released"


async def test_pending_approvals_need_staff(timed: Running) -> None:
    interviewer = await timed.client.get("/v1/approvals", headers=auth("interviewer", "iv-dan"))
    anonymous = await timed.client.get("/v1/approvals")

    assert_problem(interviewer, 403, "forbidden")
    assert_problem(anonymous, 401, "unauthorized")


async def test_approver_past_the_sla_is_escalated_once_to_the_policys_people(
    timed: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    application_id, result = await _pending(timed, db)

    clock.advance(timedelta(hours=SLA) - timedelta(seconds=1))
    assert await timed.runtime.tick_timers() == 0
    clock.advance(timedelta(seconds=1))
    assert await timed.runtime.tick_timers() == 1
    clock.advance(timedelta(days=2))
    assert await timed.runtime.tick_timers() == 0

    [escalated] = await outbox(db, APPROVAL_ESCALATED)
    assert escalated["data"] == {
        "result_id": result["id"],
        "application_id": str(application_id),
        "job_id": str((await application_row(db, application_id))["job_id"]),
        "approver_id": LEAD,
        "escalate_to": [DIRECTOR],
        "due_at": "2026-03-02T17:00:00Z",
        "escalated_at": "2026-03-02T17:00:00Z",
    }
    [pending] = await _approvals(timed, LEAD)
    assert pending["escalated_at"] == "2026-03-02T17:00:00Z"
    # Escalation tells people; the approver can still decide.
    assert (await approve(timed.client, result["id"], sub=LEAD)).status_code == 200


async def test_the_sla_counts_workday_hours_so_nobody_is_escalated_over_a_weekend(
    timed: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    # Friday 2026-03-06 at 17:00 in Shanghai: 7 hours of the SLA that day, 1 more on Monday.
    clock.set(datetime(2026, 3, 6, 9, 0, tzinfo=UTC))
    _, result = await _pending(timed, db)
    [pending] = await _approvals(timed, LEAD)
    assert pending["due_at"] == "2026-03-08T17:00:00Z"  # Monday 01:00 in Shanghai
    # The second approver's full SLA follows on Monday.
    assert result["expected_by"] == "2026-03-09T01:00:00Z"

    clock.set(datetime(2026, 3, 8, 16, 59, tzinfo=UTC))  # the whole weekend has passed
    assert await timed.runtime.tick_timers() == 0
    clock.advance(timedelta(minutes=1))
    assert await timed.runtime.tick_timers() == 1
    [escalated] = await outbox(db, APPROVAL_ESCALATED)
    assert escalated["data"]["escalated_at"] == "2026-03-08T17:00:00Z"


async def test_escalation_goes_to_the_job_owners_when_the_policy_names_nobody(
    timed: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    await _pending(timed, db, escalate_to=(), owners=(HR, OTHER_HR))

    clock.advance(timedelta(hours=SLA))
    await timed.runtime.tick_timers()

    [escalated] = await outbox(db, APPROVAL_ESCALATED)
    assert escalated["data"]["escalate_to"] == [HR, OTHER_HR]


async def test_approver_who_decides_in_time_is_not_escalated(
    timed: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    _, result = await _pending(timed, db)
    clock.advance(timedelta(hours=1))
    await approve(timed.client, result["id"], sub=LEAD)

    # Past LEAD's due time (T0 + 8h), not yet DIRECTOR's (T0 + 1h + 8h).
    clock.advance(timedelta(hours=SLA - 1, minutes=30))
    assert await timed.runtime.tick_timers() == 0

    assert await outbox(db, APPROVAL_ESCALATED) == []
