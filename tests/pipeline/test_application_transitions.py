from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from pipeline.app import spec as pipeline_spec
from pipeline.applications.models import Application
from pipeline.applications.service import apply_transition
from pipeline.applications.transitions import MoveCommand
from pipeline.jobs.models import Job
from shared.clock import ManualClock
from shared.events.pipeline import Actor
from shared.problems import Problem
from tests.pipeline.decision_fixtures import (
    ADMIN,
    HR,
    OTHER_HR,
    application_row,
    arrange,
    outbox,
    put_policy,
    seed_reasons,
    transition,
)
from tests.support.problems import assert_problem
from tests.support.running import Running, api, wait_for
from tests.support.tokens import auth

STAGE_CHANGED = "pipeline.stage_changed.v1"
RESULT_RELEASED = "pipeline.result_released.v1"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def _reasons(db: asyncpg.Connection) -> None:
    await seed_reasons(db)


async def _application(db: asyncpg.Connection, **kwargs: Any) -> uuid.UUID:
    _, application_id = await arrange(db, **kwargs)
    return application_id


async def test_advance_moves_to_the_next_stage_and_bumps_the_version(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)

    response = await transition(
        pipeline.client, application_id, {"transition": "advance"}, if_match='"1"'
    )

    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["stage_key"] == "round_1"
    assert moved["version"] == 2
    assert moved["status"] == "active"
    assert response.headers["etag"] == '"2"'
    fetched = await pipeline.client.get(f"/v1/applications/{application_id}", headers=auth())
    assert fetched.json() == moved


async def test_history_records_who_changed_the_application_when_and_why(
    db: asyncpg.Connection,
) -> None:
    clock = ManualClock(T0)
    async with api(pipeline_spec, clock=clock) as pipeline:
        application_id = await _application(db)
        clock.advance(timedelta(hours=2))
        await transition(
            pipeline.client,
            application_id,
            {"transition": "advance", "reason": "Strong AI interview"},
        )
        clock.advance(timedelta(days=1))
        await transition(
            pipeline.client,
            application_id,
            {"transition": "reject", "reason_code": "failed_interview", "reason": "Weak SQL"},
            role="admin",
            sub=ADMIN,
        )
        clock.advance(timedelta(hours=1))
        await transition(pipeline.client, application_id, {"transition": "reopen"})

        response = await pipeline.client.get(
            f"/v1/applications/{application_id}/history", headers=auth()
        )

    assert response.status_code == 200
    history = response.json()
    result_ids = [change.pop("result_id") for change in history]
    assert history == [
        {
            "transition": "advance",
            "from_stage": "ai_interview",
            "to_stage": "round_1",
            "status": "active",
            "reason_code": None,
            "reason": "Strong AI interview",
            "actor_kind": "hr",
            "actor_id": HR,
            "version": 2,
            "occurred_at": "2026-03-02T11:00:00Z",
        },
        {
            "transition": "reject",
            "from_stage": "round_1",
            "to_stage": "round_1",
            "status": "rejected",
            "reason_code": "failed_interview",
            "reason": "Weak SQL",
            "actor_kind": "admin",
            "actor_id": ADMIN,
            "version": 3,
            "occurred_at": "2026-03-03T11:00:00Z",
        },
        {
            "transition": "reopen",
            "from_stage": "round_1",
            "to_stage": "round_1",
            "status": "active",
            "reason_code": None,
            "reason": None,
            "actor_kind": "hr",
            "actor_id": HR,
            "version": 4,
            "occurred_at": "2026-03-03T12:00:00Z",
        },
    ]
    # Decisions made directly are results released at once; a reopen is not a result.
    assert result_ids[0] is not None and result_ids[1] is not None
    assert result_ids[2] is None


async def test_new_application_has_an_empty_history(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)

    response = await pipeline.client.get(
        f"/v1/applications/{application_id}/history", headers=auth()
    )

    assert response.status_code == 200
    assert response.json() == []


async def test_move_lands_on_the_named_stage(pipeline: Running, db: asyncpg.Connection) -> None:
    application_id = await _application(db)

    forward = await transition(
        pipeline.client, application_id, {"transition": "move", "to_stage": "round_2"}
    )
    back = await transition(
        pipeline.client,
        application_id,
        {"transition": "move", "to_stage": "ai_interview"},
        if_match='"2"',
    )

    assert forward.json()["stage_key"] == "round_2"
    assert back.status_code == 200
    assert back.json()["stage_key"] == "ai_interview"
    assert back.json()["version"] == 3


async def test_stage_entered_at_restarts_only_when_the_stage_changes_or_reopens(
    db: asyncpg.Connection,
) -> None:
    clock = ManualClock(T0)
    async with api(pipeline_spec, clock=clock) as pipeline:
        application_id = await _application(db, entered_at=T0)
        clock.advance(timedelta(hours=1))
        await transition(pipeline.client, application_id, {"transition": "advance"})
        after_advance = (await application_row(db, application_id))["stage_entered_at"]
        clock.advance(timedelta(hours=1))
        rejected = await transition(
            pipeline.client, application_id, {"transition": "reject", "reason_code": "other"}
        )
        after_reject = (await application_row(db, application_id))["stage_entered_at"]
        clock.advance(timedelta(hours=1))
        await transition(pipeline.client, application_id, {"transition": "reopen"})
        after_reopen = (await application_row(db, application_id))["stage_entered_at"]

    assert after_advance == T0 + timedelta(hours=1)
    assert rejected.json()["stage_entered_at"] == "2026-03-02T10:00:00Z"
    assert after_reject == after_advance
    assert after_reopen == T0 + timedelta(hours=3)


async def test_reject_needs_an_active_configured_reason(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)
    await db.execute("UPDATE pipeline.rejection_reasons SET active = false WHERE code = 'other'")

    unknown = await transition(
        pipeline.client, application_id, {"transition": "reject", "reason_code": "nope"}
    )
    inactive = await transition(
        pipeline.client, application_id, {"transition": "reject", "reason_code": "other"}
    )

    for response in (unknown, inactive):
        problem = assert_problem(response, 422, "unknown-rejection-reason")
        assert [error["field"] for error in problem["errors"]] == ["reason_code"]
    assert await outbox(db) == []
    assert (await application_row(db, application_id))["status"] == "active"


async def test_reject_sets_status_and_reason_and_reopen_clears_them(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)

    rejected = await transition(
        pipeline.client,
        application_id,
        {"transition": "reject", "reason_code": "not_qualified"},
    )
    reopened = await transition(pipeline.client, application_id, {"transition": "reopen"})

    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["rejection_reason"] == "not_qualified"
    assert rejected.json()["stage_key"] == "ai_interview"
    assert reopened.json()["status"] == "active"
    assert reopened.json()["rejection_reason"] is None
    assert reopened.json()["stage_key"] == "ai_interview"


async def test_hire_goes_to_the_hired_stage_and_is_final(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)

    hired = await transition(pipeline.client, application_id, {"transition": "hire"})
    again = await transition(pipeline.client, application_id, {"transition": "withdraw"})

    assert hired.json()["stage_key"] == "hired"
    assert hired.json()["status"] == "hired"
    problem = assert_problem(again, 409, "transition-refused")
    assert "hired" in problem["detail"]
    assert problem["allowed"] == []


async def test_withdrawn_application_only_shows_that_nothing_is_allowed(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)

    withdrawn = await transition(pipeline.client, application_id, {"transition": "withdraw"})
    reopen = await transition(pipeline.client, application_id, {"transition": "reopen"})

    assert withdrawn.json()["status"] == "withdrawn"
    problem = assert_problem(reopen, 409, "transition-refused")
    assert "only rejected applications reopen" in problem["detail"]
    assert problem["allowed"] == []


async def test_refused_transition_names_the_allowed_ones(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)

    response = await transition(pipeline.client, application_id, {"transition": "reopen"})

    problem = assert_problem(response, 409, "transition-refused")
    assert problem["allowed"] == [
        {"transition": "advance", "to_stage": "round_1"},
        {"transition": "move", "to_stage": "round_1"},
        {"transition": "move", "to_stage": "round_2"},
        {"transition": "move", "to_stage": "offer"},
        {"transition": "move", "to_stage": "hired"},
        {"transition": "move", "to_stage": "onboarding"},
        {"transition": "reject", "to_stage": "ai_interview"},
        {"transition": "withdraw", "to_stage": "ai_interview"},
        {"transition": "hire", "to_stage": "hired"},
    ]


async def test_rejected_application_may_only_reopen(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)
    await transition(
        pipeline.client, application_id, {"transition": "reject", "reason_code": "other"}
    )

    response = await transition(pipeline.client, application_id, {"transition": "advance"})

    problem = assert_problem(response, 409, "transition-refused")
    assert "rejected" in problem["detail"]
    assert problem["allowed"] == [{"transition": "reopen", "to_stage": "ai_interview"}]


@pytest.mark.parametrize("if_match", ['W/"1"', '"1"', "1"])
async def test_if_match_accepts_the_current_version_in_any_etag_spelling(
    pipeline: Running, db: asyncpg.Connection, if_match: str
) -> None:
    application_id = await _application(db)

    response = await transition(
        pipeline.client, application_id, {"transition": "advance"}, if_match=if_match
    )

    assert response.status_code == 200


async def test_if_match_star_applies_to_whatever_version_is_current(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)
    await transition(pipeline.client, application_id, {"transition": "advance"})

    response = await transition(
        pipeline.client, application_id, {"transition": "advance"}, if_match="*"
    )

    assert response.status_code == 200
    assert response.json()["version"] == 3


async def test_stale_if_match_is_refused_with_the_current_version(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)
    await transition(pipeline.client, application_id, {"transition": "advance"})

    response = await transition(
        pipeline.client, application_id, {"transition": "withdraw"}, if_match='"1"'
    )

    problem = assert_problem(response, 412, "version-mismatch")
    assert problem["current_version"] == 2
    row = await application_row(db, application_id)
    assert (row["stage_key"], row["status"]) == ("round_1", "active")
    assert len(await outbox(db, STAGE_CHANGED)) == 1


@pytest.mark.parametrize("if_match", ['"abc"', '"-1"', '"1.5"', '""'])
async def test_malformed_if_match_is_a_bad_request(
    pipeline: Running, db: asyncpg.Connection, if_match: str
) -> None:
    application_id = await _application(db)

    response = await transition(
        pipeline.client, application_id, {"transition": "advance"}, if_match=if_match
    )

    assert_problem(response, 400, "invalid-if-match")
    assert await outbox(db) == []


async def test_advancing_past_the_last_stage_is_refused(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db, stage_key="onboarding")

    response = await transition(pipeline.client, application_id, {"transition": "advance"})

    problem = assert_problem(response, 409, "transition-refused")
    assert "last stage" in problem["detail"]
    assert {"transition": "advance", "to_stage": "onboarding"} not in problem["allowed"]
    assert await outbox(db) == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"transition": "move", "to_stage": "round_9"}, "no stage 'round_9'"),
        ({"transition": "move", "to_stage": "ai_interview"}, "already in that stage"),
    ],
)
async def test_refused_transition_changes_nothing_and_emits_nothing(
    pipeline: Running, db: asyncpg.Connection, body: dict[str, str], detail: str
) -> None:
    application_id = await _application(db)

    response = await transition(pipeline.client, application_id, body)

    problem = assert_problem(response, 409, "transition-refused")
    assert detail in problem["detail"]
    assert await outbox(db) == []
    assert await db.fetchval("SELECT count(*) FROM pipeline.stage_changes") == 0
    assert await db.fetchval("SELECT count(*) FROM pipeline.results") == 0
    assert (await application_row(db, application_id))["version"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"transition": "move"}, "to_stage"),
        ({"transition": "move", "to_stage": "  "}, "to_stage"),
        ({"transition": "advance", "to_stage": "round_1"}, "to_stage"),
        ({"transition": "reject"}, "reason_code"),
        ({"transition": "withdraw", "reason_code": "other"}, "reason_code"),
        ({"transition": "promote"}, "transition"),
        ({}, "transition"),
        ({"transition": "advance", "reason": "x" * 1001}, "reason"),
        ({"transition": "advance", "note": "typo"}, "note"),
    ],
)
async def test_invalid_transition_request_is_refused_naming_the_field(
    pipeline: Running, db: asyncpg.Connection, body: dict[str, str], field: str
) -> None:
    application_id = await _application(db)

    response = await transition(pipeline.client, application_id, body)

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == [field]
    assert await outbox(db) == []


async def test_transition_access_matrix(pipeline: Running, db: asyncpg.Connection) -> None:
    application_id = await _application(db)
    body = {"transition": "advance"}

    other_hr = await transition(pipeline.client, application_id, body, sub=OTHER_HR)
    interviewer = await transition(
        pipeline.client, application_id, body, role="interviewer", sub="iv-dan"
    )
    anonymous = await pipeline.client.post(
        f"/v1/applications/{application_id}/transitions", json=body
    )
    assert_problem(other_hr, 404, "not-found")
    assert_problem(interviewer, 403, "forbidden")
    assert_problem(anonymous, 401, "unauthorized")
    assert await outbox(db) == []

    admin = await transition(pipeline.client, application_id, body, role="admin", sub=ADMIN)
    owner = await transition(pipeline.client, application_id, body)
    assert admin.status_code == owner.status_code == 200


async def test_transition_writes_one_stage_changed_event_with_its_details(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)
    application = (
        await pipeline.client.get(f"/v1/applications/{application_id}", headers=auth())
    ).json()

    response = await transition(
        pipeline.client,
        application_id,
        {"transition": "move", "to_stage": "round_2", "reason": "Skip the first round"},
    )

    events = await outbox(db, STAGE_CHANGED)
    assert len(events) == 1
    event = events[0]
    assert event["type"] == STAGE_CHANGED
    assert event["source"] == "/pipeline"
    assert event["subject"] == str(application_id)
    assert event["sequence"] == response.json()["version"] == 2
    data = event["data"]
    assert data["application_id"] == str(application_id)
    assert data["job_id"] == application["job_id"]
    assert data["candidate_id"] == application["candidate_id"]
    assert data["transition"] == "move"
    assert data["from_stage"] == {"key": "ai_interview", "kind": "ai_interview"}
    assert data["to_stage"] == {"key": "round_2", "kind": "interview"}
    assert data["reason"] == "Skip the first round"
    assert data["reason_code"] is None
    assert data["status"] == "active"
    assert data["notify_candidate"] is False
    assert data["actor"] == {"kind": "hr", "id": HR}
    assert data["result_id"] is not None


async def test_stage_changed_carries_status_reason_code_and_the_stage_notify_flag(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)

    await transition(pipeline.client, application_id, {"transition": "advance"})
    await transition(
        pipeline.client, application_id, {"transition": "reject", "reason_code": "not_qualified"}
    )
    await transition(pipeline.client, application_id, {"transition": "reopen"})
    await transition(pipeline.client, application_id, {"transition": "withdraw"})

    events = [event["data"] for event in await outbox(db, STAGE_CHANGED)]
    assert [(e["transition"], e["status"], e["reason_code"]) for e in events] == [
        ("advance", "active", None),
        ("reject", "rejected", "not_qualified"),
        ("reopen", "active", None),
        ("withdraw", "withdrawn", None),
    ]
    assert all(e["notify_candidate"] for e in events)  # round_1 notifies the candidate


async def test_direct_decision_under_an_ungated_policy_is_a_released_result(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)

    response = await transition(pipeline.client, application_id, {"transition": "advance"})

    assert response.status_code == 200
    results = await pipeline.client.get(
        f"/v1/applications/{application_id}/results", headers=auth()
    )
    [result] = results.json()["items"]
    assert result["state"] == "released"
    assert result["decision"] == "advance"
    assert (result["stage_key"], result["to_stage"]) == ("ai_interview", "round_1")
    assert result["steps"] == []
    [released] = await outbox(db, RESULT_RELEASED)
    assert released["data"]["result_id"] == result["id"]
    [changed] = await outbox(db, STAGE_CHANGED)
    assert changed["data"]["result_id"] == result["id"]


@pytest.mark.parametrize(
    "body",
    [
        {"transition": "advance"},
        {"transition": "move", "to_stage": "offer"},
        {"transition": "reject", "reason_code": "other"},
        {"transition": "hire"},
    ],
)
async def test_decisions_under_an_approval_policy_must_go_through_results(
    pipeline: Running, db: asyncpg.Connection, body: dict[str, str]
) -> None:
    await put_policy(pipeline.client, "core")
    application_id = await _application(db, job_type="core")

    response = await transition(pipeline.client, application_id, body)

    problem = assert_problem(response, 409, "release-approval-required")
    assert problem["results_url"] == f"/v1/applications/{application_id}/results"
    assert await outbox(db, STAGE_CHANGED) == []


async def test_withdraw_and_reopen_stay_direct_under_an_approval_policy(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    await put_policy(pipeline.client, "core")
    application_id = await _application(db, job_type="core")
    await db.execute(
        "UPDATE pipeline.applications SET status = 'rejected', rejection_reason = 'other' "
        "WHERE id = $1",
        application_id,
    )

    reopened = await transition(pipeline.client, application_id, {"transition": "reopen"})
    withdrawn = await transition(pipeline.client, application_id, {"transition": "withdraw"})

    assert reopened.json()["status"] == "active"
    assert withdrawn.json()["status"] == "withdrawn"
    assert await outbox(db, RESULT_RELEASED) == []


async def test_a_writer_whose_copy_went_stale_meanwhile_gets_a_conflict(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)
    runtime = pipeline.runtime

    async with runtime.db.sessionmaker() as session, session.begin():
        unit = runtime.unit(session)
        application = await session.get_one(Application, application_id)
        job = await session.get_one(Job, application.job_id)
        # Another writer moves the application after this one loaded it.
        await db.execute(
            "UPDATE pipeline.applications SET version = 2, stage_key = 'round_2' WHERE id = $1",
            application_id,
        )
        with pytest.raises(Problem) as refused:
            await apply_transition(
                unit=unit,
                application=application,
                job=job,
                move=MoveCommand("advance"),
                actor=Actor(kind="system"),
            )

    assert refused.value.status == 409
    assert refused.value.type == "urn:recruiting:problem:concurrent-update"


async def _blocked_on_the_row_lock(db: asyncpg.Connection) -> int:
    # Statistics views are snapshotted per transaction; this one runs inside the lock's.
    await db.execute("SELECT pg_stat_clear_snapshot()")
    count: int = await db.fetchval(
        """SELECT count(*) FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = 'pipeline'
             AND wait_event_type = 'Lock'"""
    )
    return count


async def _race(
    db: asyncpg.Connection,
    application_id: uuid.UUID,
    request: Callable[[], Coroutine[Any, Any, httpx.Response]],
) -> list[httpx.Response]:
    """Start two requests while the application's row is locked, so both are provably in
    flight at once, then let them go."""
    async with db.transaction():
        await db.execute(
            "SELECT 1 FROM pipeline.applications WHERE id = $1 FOR UPDATE", application_id
        )
        racing = [asyncio.create_task(request()) for _ in range(2)]

        async def both_blocked() -> bool:
            return await _blocked_on_the_row_lock(db) == 2

        await wait_for(both_blocked, timeout=10, what="both requests to wait for the row lock")
    return list(await asyncio.gather(*racing))


async def test_concurrent_transitions_with_the_same_if_match_apply_once(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)

    async def advance() -> httpx.Response:
        return await transition(
            pipeline.client, application_id, {"transition": "advance"}, if_match='"1"'
        )

    responses = await _race(db, application_id, advance)

    assert sorted(response.status_code for response in responses) == [200, 412]
    refused = next(response for response in responses if response.status_code == 412)
    assert refused.json()["current_version"] == 2
    assert len(await outbox(db, STAGE_CHANGED)) == 1
    assert await db.fetchval("SELECT count(*) FROM pipeline.stage_changes") == 1


async def test_concurrent_transitions_without_if_match_both_apply_in_turn(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application_id = await _application(db)

    async def advance() -> httpx.Response:
        return await transition(pipeline.client, application_id, {"transition": "advance"})

    responses = await _race(db, application_id, advance)

    assert sorted(response.json()["version"] for response in responses) == [2, 3]
    assert sorted(response.json()["stage_key"] for response in responses) == [
        "round_1",
        "round_2",
    ]
    assert [event["sequence"] for event in await outbox(db, STAGE_CHANGED)] == [2, 3]
