"""Bad campaign requests are refused naming the field, and only HR and admins may run
campaigns: a campaign is its creator's and admins' (404 for other HR); its segment must be
the creator's and its job one they own, open."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from shared.clock import ManualClock
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth
from tests.talentpool.segments_support import (
    AS_ADMIN,
    AS_INTERVIEWER,
    AS_OTHER_HR,
    AS_OWNER,
    OWNER,
    T0,
    a_job,
    a_segment,
    pool_api,
)

AS_SERVICE = auth("service", "pipeline", scopes=("talentpool:search",))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def pool(clock: ManualClock) -> AsyncIterator[Running]:
    async with pool_api(clock) as service:
        yield service


async def _body(pool: Running, db: asyncpg.Connection, **fields: Any) -> dict[str, Any]:
    segment = await a_segment(pool, {"tags_any": ["re_invite"]}, headers=AS_OWNER)
    job = await a_job(db, owners=[OWNER])
    return {
        "name": "Second look",
        "segment_id": segment["id"],
        "job_id": str(job),
        "per_hour": 20,
        **fields,
    }


async def _created(pool: Running, db: asyncpg.Connection) -> dict[str, Any]:
    response = await pool.client.post("/v1/campaigns", json=await _body(pool, db), headers=AS_OWNER)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/campaigns/{response.json()['id']}"
    assert response.headers["etag"] == '"1"'
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"per_hour": 0}, "per_hour"),
        ({"per_hour": 10_001}, "per_hour"),
        ({"repeat_every_days": 0}, "repeat_every_days"),
        ({"ends_at": "2026-12-31T00:00:00"}, "ends_at"),
        ({"name": ""}, "name"),
        ({"segment_id": "segment-7"}, "segment_id"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_invalid_campaign_is_refused_naming_the_field(
    pool: Running, db: asyncpg.Connection, fields: dict[str, Any], field: str
) -> None:
    response = await pool.client.post(
        "/v1/campaigns", json=await _body(pool, db, **fields), headers=AS_OWNER
    )

    problem = assert_problem(response, 422)
    assert [(e["location"], e["field"]) for e in problem["errors"]] == [("body", field)]


async def test_campaign_needs_a_segment_of_the_callers_an_open_job_they_own_and_a_future_end(
    pool: Running, db: asyncpg.Connection
) -> None:
    others_segment = await a_segment(pool, {"tags_any": ["re_invite"]}, headers=AS_OTHER_HR)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"segment_id": str(uuid.uuid4())}, "segment_id", "unknown_segment"),
        ({"segment_id": others_segment["id"]}, "segment_id", "unknown_segment"),
        ({"job_id": str(uuid.uuid4())}, "job_id", "unknown_job"),
        ({"job_id": str(await a_job(db, owners=["hr-bob"]))}, "job_id", "unknown_job"),
        ({"job_id": str(await a_job(db, status="closed"))}, "job_id", "job_closed"),
        ({"ends_at": (T0 - timedelta(minutes=1)).isoformat()}, "ends_at", "in_the_past"),
    ]
    for fields, field, code in cases:
        response = await pool.client.post(
            "/v1/campaigns", json=await _body(pool, db, **fields), headers=AS_OWNER
        )
        problem = assert_problem(response, 422, "validation-error")
        assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, code)], fields
    assert await db.fetchval("SELECT count(*) FROM talentpool.campaigns") == 0


async def test_admins_may_invite_anyones_segment_to_any_open_job(
    pool: Running, db: asyncpg.Connection
) -> None:
    body = await _body(pool, db, job_id=str(await a_job(db, owners=["hr-bob"])))

    response = await pool.client.post("/v1/campaigns", json=body, headers=AS_ADMIN)

    assert response.status_code == 201, response.text
    assert response.json()["created_by"] == "admin-zhao"


def _routes(campaign_id: str) -> list[tuple[str, str]]:
    return [
        ("GET", f"/v1/campaigns/{campaign_id}"),
        ("POST", f"/v1/campaigns/{campaign_id}/pause"),
        ("POST", f"/v1/campaigns/{campaign_id}/resume"),
        ("POST", f"/v1/campaigns/{campaign_id}/cancel"),
        ("GET", f"/v1/campaigns/{campaign_id}/recipients"),
    ]


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), (AS_INTERVIEWER, 403), (AS_SERVICE, 403)],
    ids=["no token", "interviewer", "another service"],
)
async def test_campaigns_are_for_hr_and_admins_only(
    pool: Running, db: asyncpg.Connection, headers: dict[str, str], status: int
) -> None:
    created = await _created(pool, db)
    body = await _body(pool, db)

    routes = [("POST", "/v1/campaigns"), ("GET", "/v1/campaigns"), *_routes(created["id"])]
    for method, path in routes:
        response = await pool.client.request(
            method, path, json=body if path == "/v1/campaigns" else None, headers=headers
        )
        assert_problem(response, status)


async def test_another_hrs_campaign_is_not_found_and_admins_see_it(
    pool: Running, db: asyncpg.Connection
) -> None:
    created = await _created(pool, db)

    for method, path in _routes(created["id"]):
        response = await pool.client.request(method, path, headers=AS_OTHER_HR)
        assert_problem(response, 404, "not-found")
    assert (await pool.client.get("/v1/campaigns", headers=AS_OTHER_HR)).json()["items"] == []
    listed = await pool.client.get("/v1/campaigns", headers=AS_ADMIN)
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]
    paused = await pool.client.post(f"/v1/campaigns/{created['id']}/pause", headers=AS_ADMIN)
    assert paused.json()["status"] == "paused"


async def test_campaigns_are_listed_newest_first_and_by_state(
    pool: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    first = await _created(pool, db)
    clock.advance(timedelta(minutes=1))
    second = await _created(pool, db)
    await pool.client.post(f"/v1/campaigns/{first['id']}/cancel", headers=AS_OWNER)

    every = await pool.client.get("/v1/campaigns", headers=AS_OWNER)
    active = await pool.client.get("/v1/campaigns", params={"status": "active"}, headers=AS_OWNER)
    bad = await pool.client.get("/v1/campaigns", params={"status": "asleep"}, headers=AS_OWNER)

    assert [item["id"] for item in every.json()["items"]] == [second["id"], first["id"]]
    assert [item["id"] for item in active.json()["items"]] == [second["id"]]
    assert [e["field"] for e in assert_problem(bad, 422)["errors"]] == ["status"]


async def test_a_stale_version_or_a_finished_campaign_refuses_the_change(
    pool: Running, db: asyncpg.Connection
) -> None:
    created = await _created(pool, db)
    url = f"/v1/campaigns/{created['id']}"

    stale = await pool.client.post(f"{url}/pause", headers={**AS_OWNER, "If-Match": '"7"'})
    resumed_active = await pool.client.post(f"{url}/resume", headers=AS_OWNER)
    await db.execute(
        "UPDATE talentpool.campaigns SET status = 'finished' WHERE id = $1",
        uuid.UUID(created["id"]),
    )
    cancel_finished = await pool.client.post(f"{url}/cancel", headers=AS_OWNER)
    pause_finished = await pool.client.post(f"{url}/pause", headers=AS_OWNER)

    assert assert_problem(stale, 412, "version-mismatch")["current_version"] == 1
    assert (resumed_active.status_code, resumed_active.json()["version"]) == (200, 1)
    assert_problem(cancel_finished, 409, "campaign-finished")
    assert_problem(pause_finished, 409, "campaign-not-active")


async def test_recipients_filter_by_an_unknown_state_is_refused(
    pool: Running, db: asyncpg.Connection
) -> None:
    created = await _created(pool, db)

    response = await pool.client.get(
        f"/v1/campaigns/{created['id']}/recipients", params={"status": "gone"}, headers=AS_OWNER
    )

    assert [e["field"] for e in assert_problem(response, 422)["errors"]] == ["status"]


async def test_creating_a_campaign_again_with_the_same_idempotency_key_creates_one(
    pool: Running, db: asyncpg.Connection
) -> None:
    body = await _body(pool, db)
    headers = {**AS_OWNER, "Idempotency-Key": "campaign-autumn-1"}

    first = await pool.client.post("/v1/campaigns", json=body, headers=headers)
    second = await pool.client.post("/v1/campaigns", json=body, headers=headers)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert await db.fetchval("SELECT count(*) FROM talentpool.campaigns") == 1
