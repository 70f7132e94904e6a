"""Recommendations for an urgent opening: past candidates ranked for a job, with the parts of
their scores; who is left out, and who may ask."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from talentpool.recommendations.ranking import WEIGHTS
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.talentpool.reinvitations_support import (
    ADMIN,
    HR_OTHER,
    HR_OWNER,
    HR_SCOPED,
    INTERVIEWER,
    OWNER,
    Pool,
    now,
    pool_service,
)


@pytest.fixture
async def service() -> AsyncIterator[Running]:
    async with pool_service() as running:
        yield running


@pytest.fixture
def pool(service: Running) -> Pool:
    return Pool(service)


async def _recommend(
    service: Running,
    job_id: uuid.UUID,
    *,
    headers: dict[str, str] = HR_SCOPED,
    **params: Any,
) -> httpx.Response:
    return await service.client.get(
        f"/v1/jobs/{job_id}/recommendations", params=params, headers=headers
    )


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["profile_id"] for item in response.json()["items"]]


async def test_past_candidates_are_ranked_with_the_parts_of_their_scores(
    service: Running, pool: Pool
) -> None:
    job_id = await pool.job()
    runner_up = await pool.person(
        skills=["Python", "SQL"], engagement_score=60, last_activity_at=now()
    )
    await pool.tag([runner_up], "runner_up")
    engaged = await pool.person(
        skills=["python"], engagement_score=90, last_activity_at=now() - timedelta(days=180)
    )
    idle = await pool.person(
        skills=["java"], engagement_score=10, last_activity_at=now() - timedelta(days=720)
    )

    response = await _recommend(service, job_id, skills=["python", "sql"], limit=10)

    assert _ids(response) == [
        str(runner_up.profile_id),
        str(engaged.profile_id),
        str(idle.profile_id),
    ]
    body = response.json()
    assert body["job_id"] == str(job_id)
    assert body["skills"] == ["python", "sql"]
    assert body["weights"] == WEIGHTS
    assert body["considered"] == 3
    first, second, third = body["items"]
    assert first["parts"]["runner_up"] == 1.0
    assert first["parts"]["skills"] == 1.0
    assert first["parts"]["engagement"] == 0.6
    assert first["parts"]["recency"] == pytest.approx(1.0, abs=0.001)
    assert first["matched_skills"] == ["python", "sql"]
    assert first["tags"] == ["runner_up"]
    assert second["parts"]["runner_up"] == 0.0
    assert second["parts"]["skills"] == 0.5
    assert second["parts"]["recency"] == pytest.approx(0.5, abs=0.001)
    assert third["parts"]["skills"] == 0.0
    assert third["matched_skills"] == []
    expected = 100 * (
        WEIGHTS["runner_up"] * 0
        + WEIGHTS["skills"] * 0.5
        + WEIGHTS["engagement"] * 0.9
        + WEIGHTS["recency"] * second["parts"]["recency"]
    )
    assert second["score"] == pytest.approx(expected, abs=0.01)
    assert first["score"] > second["score"] > third["score"]


async def test_without_wanted_skills_the_skills_part_is_left_out(
    service: Running, pool: Pool
) -> None:
    job_id = await pool.job()
    await pool.person(skills=["python"], engagement_score=40)

    response = await _recommend(service, job_id)

    [item] = response.json()["items"]
    assert item["parts"]["skills"] is None
    assert response.json()["skills"] == []


async def test_only_people_who_may_be_invited_and_have_not_applied_are_recommended(
    service: Running, pool: Pool
) -> None:
    job_id = await pool.job()
    later = now() + timedelta(days=20)
    shown = await pool.person(engagement_score=30)
    hold_over = await pool.person(on_hold_until=now() - timedelta(days=1))
    no_consent = await pool.person(consent=None)  # consent is checked when inviting
    hidden = [
        await pool.person(on_hold_until=later),
        await pool.person(anonymized_at=now()),
        await pool.person(unsubscribed_at=now()),
        await pool.person(merged_into=shown.profile_id),
    ]
    tagged_on_hold, set_aside, applied = await pool.people(3, engagement_score=99)
    await pool.tag([tagged_on_hold], "on_hold", until=later)
    await pool.tag([set_aside], "set_aside")
    await pool.applications([applied], job_id)

    ids = _ids(await _recommend(service, job_id, limit=100))

    assert set(ids) == {str(p.profile_id) for p in (shown, hold_over, no_consent)}
    assert not {str(p.profile_id) for p in hidden} & set(ids)


async def test_the_limit_keeps_the_best(service: Running, pool: Pool) -> None:
    job_id = await pool.job()
    low = await pool.people(3, engagement_score=10)
    best = await pool.person(engagement_score=95)

    ids = _ids(await _recommend(service, job_id, limit=1))

    assert ids == [str(best.profile_id)]
    assert str(low[0].profile_id) not in ids


async def test_hr_without_the_scope_are_recommended_only_people_related_to_jobs_they_own(
    service: Running, pool: Pool
) -> None:
    urgent = await pool.job()
    earlier = await pool.job(owner_ids=[OWNER])
    elsewhere = await pool.job(owner_ids=["hr-stranger"])
    mine = await pool.person()
    theirs = await pool.person()
    await pool.applications([mine], earlier)
    await pool.applications([theirs], elsewhere)

    own = _ids(await _recommend(service, urgent, headers=HR_OWNER))
    everyone = _ids(await _recommend(service, urgent, headers=HR_SCOPED))

    assert own == [str(mine.profile_id)]
    assert set(everyone) == {str(mine.profile_id), str(theirs.profile_id)}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"skills": [f"s{i}" for i in range(51)]}, "skills"),
        ({"skills": ["x" * 81]}, "skills.0"),
        ({"skills": [""]}, "skills.0"),
    ],
)
async def test_bad_parameters_are_422_naming_them(
    service: Running, pool: Pool, params: dict[str, Any], field: str
) -> None:
    job_id = await pool.job()

    problem = assert_problem(await _recommend(service, job_id, **params), 422, "validation-error")

    assert field in [e["field"] for e in problem["errors"]]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        (INTERVIEWER, 403),
        (HR_OTHER, 404),
        (HR_OWNER, 200),
        (HR_SCOPED, 200),
        (ADMIN, 200),
    ],
)
async def test_who_may_see_a_jobs_recommendations(
    service: Running, pool: Pool, headers: dict[str, str], status: int
) -> None:
    job_id = await pool.job()

    response = await _recommend(service, job_id, headers=headers)

    assert response.status_code == status, response.text
    if status != 200:
        assert_problem(response, status)


async def test_a_job_the_pool_does_not_know_is_404(service: Running) -> None:
    assert_problem(await _recommend(service, uuid.uuid4(), headers=ADMIN), 404, "not-found")
