"""Who may use segments: HR and admins (a token is needed; interviewers and other services are
refused); searching the whole pool needs the talent-pool scope (or an admin), other HR see only
the people who applied to a job they own; a saved segment is its owner's and admins'."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth
from tests.talentpool.segments_support import (
    AS_ADMIN,
    AS_INTERVIEWER,
    AS_OTHER_HR,
    AS_OWNER,
    AS_POOL_HR,
    OWNER,
    a_job,
    a_person,
    a_segment,
    applied,
    pool_api,
    selected,
)

AS_SERVICE = auth("service", "pipeline", scopes=("talentpool:search",))
FILTERS: dict[str, Any] = {"tags_any": ["runner_up"]}
SEGMENT: dict[str, Any] = {"name": "Runners-up", "filters": FILTERS}


@pytest.fixture
async def pool() -> AsyncIterator[Running]:
    async with pool_api() as service:
        yield service


def _routes(segment_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("POST", "/v1/segments", SEGMENT),
        ("GET", "/v1/segments", None),
        ("POST", "/v1/segments/preview", {"filters": {}}),
        ("GET", f"/v1/segments/{segment_id}", None),
        ("PUT", f"/v1/segments/{segment_id}", SEGMENT),
        ("DELETE", f"/v1/segments/{segment_id}", None),
        ("GET", f"/v1/segments/{segment_id}/profiles", None),
    ]


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), (AS_INTERVIEWER, 403), (AS_SERVICE, 403)],
    ids=["no token", "interviewer", "another service"],
)
async def test_segments_are_for_hr_and_admins_only(
    pool: Running, headers: dict[str, str], status: int
) -> None:
    segment = await a_segment(pool, FILTERS)

    for method, path, body in _routes(segment["id"]):
        response = await pool.client.request(method, path, json=body, headers=headers)
        assert_problem(response, status)


async def test_another_hrs_segment_is_not_found(pool: Running) -> None:
    segment = await a_segment(pool, FILTERS, headers=AS_OWNER)

    for method, path, body in _routes(segment["id"])[3:]:
        response = await pool.client.request(method, path, json=body, headers=AS_OTHER_HR)
        assert_problem(response, 404, "not-found")
    assert (await pool.client.get("/v1/segments", headers=AS_OTHER_HR)).json()["items"] == []


async def test_admins_may_change_and_delete_anyones_segment(pool: Running) -> None:
    segment = await a_segment(pool, FILTERS, headers=AS_OWNER)
    url = f"/v1/segments/{segment['id']}"

    replaced = await pool.client.put(url, json=SEGMENT, headers=AS_ADMIN)
    deleted = await pool.client.delete(url, headers=AS_ADMIN)

    assert (replaced.status_code, deleted.status_code) == (200, 204)
    assert replaced.json()["owner_id"] == OWNER


async def test_an_unknown_segment_is_not_found(pool: Running) -> None:
    response = await pool.client.get(f"/v1/segments/{uuid.uuid4()}/profiles", headers=AS_ADMIN)

    assert_problem(response, 404, "not-found")


async def test_searching_the_whole_pool_needs_the_scope_other_hr_see_their_jobs_people(
    pool: Running, db: asyncpg.Connection
) -> None:
    own_job = await a_job(db, owners=[OWNER])
    other_job = await a_job(db, owners=["hr-bob"])
    mine = await a_person(db, tags=["runner_up"])
    theirs = await a_person(db, tags=["runner_up"])
    nobodys = await a_person(db, tags=["runner_up"])
    await applied(db, mine, own_job)
    await applied(db, theirs, other_job)
    everyone = {mine.profile_id, theirs.profile_id, nobodys.profile_id}

    assert await selected(pool, {"tags_any": ["runner_up"]}, AS_OWNER) == {mine.profile_id}
    assert await selected(pool, {"tags_any": ["runner_up"]}, AS_OTHER_HR) == {theirs.profile_id}
    assert await selected(pool, {"tags_any": ["runner_up"]}, AS_POOL_HR) == everyone
    assert await selected(pool, {"tags_any": ["runner_up"]}, AS_ADMIN) == everyone
    # A saved segment lists what its reader may see: the owner their people, an admin all.
    segment = await a_segment(pool, {"tags_any": ["runner_up"]}, headers=AS_OWNER)
    url = f"/v1/segments/{segment['id']}/profiles"
    as_owner = (await pool.client.get(url, headers=AS_OWNER)).json()
    as_admin = (await pool.client.get(url, headers=AS_ADMIN)).json()
    assert (as_owner["count"], as_admin["count"]) == (1, 3)
