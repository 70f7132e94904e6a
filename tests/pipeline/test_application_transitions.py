from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from pipeline.app import spec as pipeline_spec
from shared.clock import ManualClock
from tests.pipeline.factories import HR, apply, create_job, transition
from tests.support.running import Running, api, wait_for
from tests.support.tokens import auth

STAGE_CHANGED = "pipeline.stage_changed.v1"


async def _application(pipeline: Running) -> dict[str, Any]:
    job = await create_job(pipeline.client)
    return await apply(pipeline.client, job["id"])


async def _outbox(db: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await db.fetch("SELECT event_type, payload FROM pipeline.outbox ORDER BY id")
    return [{"event_type": row["event_type"], **json.loads(row["payload"])} for row in rows]


async def test_advance_moves_to_the_next_stage_and_bumps_the_version(pipeline: Running) -> None:
    application = await _application(pipeline)

    response = await transition(
        pipeline.client, application["id"], {"transition": "advance"}, if_match='"1"'
    )

    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["stage_key"] == "round_1"
    assert moved["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert moved["status"] == "active"
    fetched = await pipeline.client.get(f"/v1/applications/{application['id']}", headers=auth())
    assert fetched.json() == moved


async def test_history_records_who_moved_the_application_when_and_why() -> None:
    clock = ManualClock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    async with api(pipeline_spec, clock=clock) as pipeline:
        application = await _application(pipeline)
        clock.advance(timedelta(hours=2))
        await transition(
            pipeline.client,
            application["id"],
            {"transition": "advance", "reason": "Strong AI interview"},
        )
        clock.advance(timedelta(days=1))
        await transition(
            pipeline.client,
            application["id"],
            {"transition": "move", "to_stage": "offer"},
            hr="hr-alice",
        )

        response = await pipeline.client.get(
            f"/v1/applications/{application['id']}/history", headers=auth()
        )

    assert response.status_code == 200
    assert response.json() == [
        {
            "transition": "advance",
            "from_stage": "ai_interview",
            "to_stage": "round_1",
            "reason": "Strong AI interview",
            "actor_kind": "hr",
            "actor_id": HR,
            "version": 2,
            "occurred_at": "2025-03-03T11:00:00Z",
        },
        {
            "transition": "move",
            "from_stage": "round_1",
            "to_stage": "offer",
            "reason": None,
            "actor_kind": "hr",
            "actor_id": HR,
            "version": 3,
            "occurred_at": "2025-03-04T11:00:00Z",
        },
    ]


async def test_new_application_has_an_empty_history(pipeline: Running) -> None:
    application = await _application(pipeline)

    response = await pipeline.client.get(
        f"/v1/applications/{application['id']}/history", headers=auth()
    )

    assert response.status_code == 200
    assert response.json() == []


async def test_admin_move_is_recorded_with_the_admin_as_actor(pipeline: Running) -> None:
    application = await _application(pipeline)

    response = await pipeline.client.post(
        f"/v1/applications/{application['id']}/transitions",
        json={"transition": "move", "to_stage": "round_2"},
        headers=auth("admin", "admin-zoe"),
    )
    history = await pipeline.client.get(
        f"/v1/applications/{application['id']}/history", headers=auth()
    )

    assert response.status_code == 200
    assert [(c["actor_kind"], c["actor_id"]) for c in history.json()] == [("admin", "admin-zoe")]


async def test_move_lands_on_the_named_stage(pipeline: Running) -> None:
    application = await _application(pipeline)

    forward = await transition(
        pipeline.client, application["id"], {"transition": "move", "to_stage": "round_2"}
    )
    back = await transition(
        pipeline.client,
        application["id"],
        {"transition": "move", "to_stage": "ai_interview"},
        if_match='"2"',
    )

    assert forward.status_code == 200
    assert forward.json()["stage_key"] == "round_2"
    assert back.status_code == 200
    assert back.json()["stage_key"] == "ai_interview"
    assert back.json()["version"] == 3


@pytest.mark.parametrize("if_match", ['W/"1"', '"1"', "1"])
async def test_if_match_accepts_the_current_version_in_any_etag_spelling(
    pipeline: Running, if_match: str
) -> None:
    application = await _application(pipeline)

    response = await transition(
        pipeline.client, application["id"], {"transition": "advance"}, if_match=if_match
    )

    assert response.status_code == 200


async def test_if_match_star_applies_to_whatever_version_is_current(pipeline: Running) -> None:
    application = await _application(pipeline)
    await transition(pipeline.client, application["id"], {"transition": "advance"})

    response = await transition(
        pipeline.client, application["id"], {"transition": "advance"}, if_match="*"
    )

    assert response.status_code == 200
    assert response.json()["version"] == 3


async def test_stale_if_match_is_refused_with_the_current_version(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application = await _application(pipeline)
    await transition(pipeline.client, application["id"], {"transition": "advance"})

    response = await transition(
        pipeline.client, application["id"], {"transition": "advance"}, if_match='"1"'
    )

    assert response.status_code == 412
    problem = response.json()
    assert problem["type"] == "urn:recruiting:problem:version-mismatch"
    assert problem["current_version"] == 2
    stage = await db.fetchval(
        "SELECT stage_key FROM pipeline.applications WHERE id = $1", uuid.UUID(application["id"])
    )
    assert stage == "round_1"
    assert len(await _outbox(db)) == 1


@pytest.mark.parametrize("if_match", ['"abc"', '"-1"', '"1.5"', '""'])
async def test_malformed_if_match_is_a_bad_request(
    pipeline: Running, db: asyncpg.Connection, if_match: str
) -> None:
    application = await _application(pipeline)

    response = await transition(
        pipeline.client, application["id"], {"transition": "advance"}, if_match=if_match
    )

    assert response.status_code == 400
    assert response.json()["type"] == "urn:recruiting:problem:invalid-if-match"
    assert await _outbox(db) == []


async def test_advancing_past_the_last_stage_is_refused(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application = await _application(pipeline)
    await transition(
        pipeline.client, application["id"], {"transition": "move", "to_stage": "offer"}
    )

    response = await transition(pipeline.client, application["id"], {"transition": "advance"})

    assert response.status_code == 409
    assert response.json()["type"] == "urn:recruiting:problem:transition-refused"
    assert "last stage" in response.json()["detail"]
    assert len(await _outbox(db)) == 1
    history = await pipeline.client.get(
        f"/v1/applications/{application['id']}/history", headers=auth()
    )
    assert len(history.json()) == 1


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
    application = await _application(pipeline)

    response = await transition(pipeline.client, application["id"], body)

    assert response.status_code == 409
    assert response.json()["type"] == "urn:recruiting:problem:transition-refused"
    assert detail in response.json()["detail"]
    assert await _outbox(db) == []
    assert await db.fetchval("SELECT count(*) FROM pipeline.stage_changes") == 0
    current = await pipeline.client.get(f"/v1/applications/{application['id']}", headers=auth())
    assert current.json()["version"] == 1


async def test_advance_that_names_a_stage_is_invalid_input(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application = await _application(pipeline)

    response = await transition(
        pipeline.client, application["id"], {"transition": "advance", "to_stage": "round_1"}
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["to_stage"]
    assert await _outbox(db) == []


async def test_application_that_is_no_longer_active_does_not_move(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application = await _application(pipeline)
    # No route rejects yet; set the status directly to show the state machine guards it.
    await db.execute(
        "UPDATE pipeline.applications SET status = 'rejected' WHERE id = $1",
        uuid.UUID(application["id"]),
    )

    response = await transition(pipeline.client, application["id"], {"transition": "advance"})

    assert response.status_code == 409
    assert "rejected" in response.json()["detail"]
    assert await _outbox(db) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"transition": "move"}, "to_stage"),
        ({"transition": "move", "to_stage": "  "}, "to_stage"),
        ({"transition": "hire"}, "transition"),
        ({}, "transition"),
        ({"transition": "advance", "reason": "x" * 1001}, "reason"),
        ({"transition": "advance", "note": "typo"}, "note"),
    ],
)
async def test_invalid_transition_request_is_refused_naming_the_field(
    pipeline: Running, db: asyncpg.Connection, body: dict[str, str], field: str
) -> None:
    application = await _application(pipeline)

    response = await transition(pipeline.client, application["id"], body)

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert await _outbox(db) == []


async def test_transition_of_an_invisible_application_is_not_found(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application = await _application(pipeline)

    other_hr = await transition(
        pipeline.client, application["id"], {"transition": "advance"}, hr="hr-bob"
    )
    interviewer = await pipeline.client.post(
        f"/v1/applications/{application['id']}/transitions",
        json={"transition": "advance"},
        headers=auth("interviewer", "iv-dan"),
    )
    anonymous = await pipeline.client.post(
        f"/v1/applications/{application['id']}/transitions", json={"transition": "advance"}
    )

    assert other_hr.status_code == 404
    assert interviewer.status_code == 403
    assert anonymous.status_code == 401
    assert await _outbox(db) == []


async def test_transition_writes_one_stage_changed_event_to_the_outbox(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application = await _application(pipeline)

    response = await transition(
        pipeline.client,
        application["id"],
        {"transition": "move", "to_stage": "round_2", "reason": "Skip the first round"},
    )

    events = await _outbox(db)
    assert len(events) == 1
    event = events[0]
    assert event["event_type"] == event["type"] == STAGE_CHANGED
    assert event["source"] == "/pipeline"
    assert event["subject"] == application["id"]
    assert event["sequence"] == response.json()["version"] == 2
    data = event["data"]
    assert data["application_id"] == application["id"]
    assert data["job_id"] == application["job_id"]
    assert data["candidate_id"] == application["candidate_id"]
    assert data["transition"] == "move"
    assert data["from_stage"] == {"key": "ai_interview", "kind": "ai_interview"}
    assert data["to_stage"] == {"key": "round_2", "kind": "interview"}
    assert data["reason"] == "Skip the first round"
    assert data["actor"] == {"kind": "hr", "id": HR}
    published = await db.fetchval("SELECT published_at FROM pipeline.outbox")
    assert published is None  # the relay is off in these tests, so the row waits for it


async def test_each_transition_emits_an_event_whose_sequence_is_the_new_version(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application = await _application(pipeline)

    for _ in range(3):
        await transition(pipeline.client, application["id"], {"transition": "advance"})

    events = await _outbox(db)
    assert [event["sequence"] for event in events] == [2, 3, 4]
    assert [event["data"]["to_stage"]["key"] for event in events] == [
        "round_1",
        "round_2",
        "offer",
    ]
    assert len({event["id"] for event in events}) == 3


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
    application_id: str,
    request: Callable[[], Coroutine[Any, Any, httpx.Response]],
) -> list[httpx.Response]:
    """Start two requests while the application's row is locked, so both are provably in
    flight at once, then let them go."""
    async with db.transaction():
        await db.execute(
            "SELECT 1 FROM pipeline.applications WHERE id = $1 FOR UPDATE",
            uuid.UUID(application_id),
        )
        racing = [asyncio.create_task(request()) for _ in range(2)]

        async def both_blocked() -> bool:
            return await _blocked_on_the_row_lock(db) == 2

        await wait_for(both_blocked, timeout=10, what="both requests to wait for the row lock")
    return list(await asyncio.gather(*racing))


async def test_concurrent_transitions_with_the_same_if_match_apply_once(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application = await _application(pipeline)

    async def advance() -> httpx.Response:
        return await transition(
            pipeline.client, application["id"], {"transition": "advance"}, if_match='"1"'
        )

    responses = await _race(db, application["id"], advance)

    assert sorted(response.status_code for response in responses) == [200, 412]
    refused = next(response for response in responses if response.status_code == 412)
    assert refused.json()["current_version"] == 2
    assert len(await _outbox(db)) == 1
    assert await db.fetchval("SELECT count(*) FROM pipeline.stage_changes") == 1


async def test_concurrent_transitions_without_if_match_both_apply_in_turn(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    application = await _application(pipeline)

    async def advance() -> httpx.Response:
        return await transition(pipeline.client, application["id"], {"transition": "advance"})

    responses = await _race(db, application["id"], advance)

    assert sorted(response.json()["version"] for response in responses) == [2, 3]
    assert sorted(response.json()["stage_key"] for response in responses) == [
        "round_1",
        "round_2",
    ]
    assert [event["sequence"] for event in await _outbox(db)] == [2, 3]
