"""Segments: saved filters over the pool (tags, skills, text, furthest stage, engagement, last
activity, location, on hold, a job applied to) listing people newest activity first with a
count; invalid filters refused naming the field; segments are their owner's (and admins')."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.talentpool.segments_support import (
    AS_ADMIN,
    AS_OTHER_HR,
    AS_POOL_HR,
    T0,
    a_job,
    a_person,
    a_segment,
    applied,
    pool_api,
    preview,
    selected,
)

ANALYST = "负责数据分析平台的建设，熟练使用 SQL 和 Python。"  # noqa: RUF001
FRONTEND = "前端开发工程师，熟悉 React 与 TypeScript。"  # noqa: RUF001


@pytest.fixture
async def pool() -> AsyncIterator[Running]:
    async with pool_api() as service:
        yield service


async def test_saved_segment_lists_its_people_newest_activity_first_page_by_page(
    pool: Running, db: asyncpg.Connection
) -> None:
    people = [
        await a_person(
            db,
            tags=["runner_up"],
            skills=["python", "sql"],
            location="Shanghai",
            engagement=60 + n,
            furthest="interview",
            last_activity_at=T0 - timedelta(days=n),
        )
        for n in range(5)
    ]
    await a_person(db, tags=["no_show"], location="Shanghai")
    segment = await a_segment(pool, {"tags_any": ["runner_up"]})

    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = await pool.client.get(
            f"/v1/segments/{segment['id']}/profiles", params=params, headers=AS_POOL_HR
        )
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert {page["count"] for page in pages} == {5}
    listed = [item for page in pages for item in page["items"]]
    assert [item["profile_id"] for item in listed] == [str(p.profile_id) for p in people]
    assert listed[0] == {
        "profile_id": str(people[0].profile_id),
        "engagement_score": 60,
        "furthest_stage": "interview",
        "tags": ["runner_up"],
        "skills": ["python", "sql"],
        "location": "Shanghai",
        "last_activity_at": "2026-03-02T09:00:00Z",
    }


async def test_segment_is_saved_read_and_listed_with_its_version(
    pool: Running,
) -> None:
    filters = {"tags_any": ["runner_up"], "engagement_min": 60, "text": "数据分析"}
    created = await pool.client.post(
        "/v1/segments",
        json={"name": "Analysts", "description": "Second look", "filters": filters},
        headers=AS_POOL_HR,
    )
    assert created.status_code == 201, created.text
    segment = created.json()
    assert created.headers["location"] == f"/v1/segments/{segment['id']}"
    assert created.headers["etag"] == '"1"'
    assert segment["filters"] == {**filters, "exclude_on_hold": False}
    assert segment["owner_id"] == "hr-wang"

    read = await pool.client.get(f"/v1/segments/{segment['id']}", headers=AS_POOL_HR)
    listed = await pool.client.get("/v1/segments", headers=AS_POOL_HR)

    assert read.json() == segment
    assert [item["id"] for item in listed.json()["items"]] == [segment["id"]]


async def test_each_filter_selects_exactly_the_people_it_describes(
    pool: Running, db: asyncpg.Connection
) -> None:
    job = await a_job(db)
    ana = await a_person(
        db,
        resume=ANALYST,
        tags=["runner_up", "re_invite"],
        skills=["python", "sql"],
        location="Shanghai",
        engagement=80,
        furthest="offer",
        last_activity_at=T0 - timedelta(days=10),
    )
    bo = await a_person(
        db,
        resume=FRONTEND,
        tags=["runner_up"],
        skills=["react"],
        location="shanghai",
        engagement=40,
        furthest="ai_interview",
        last_activity_at=T0 - timedelta(days=100),
        on_hold_until=T0 + timedelta(days=30),
    )
    chen = await a_person(
        db,
        notes="面试表现好，适合数据分析岗位",  # noqa: RUF001
        tags=["no_show"],
        skills=["sql"],
        location="Beijing",
        engagement=65,
        furthest="assessment",  # a kind a template invented: ranks like an evaluation
        last_activity_at=T0 - timedelta(days=400),
        on_hold_until=T0 - timedelta(days=1),  # over
    )
    await applied(db, chen, job)

    cases: list[tuple[dict[str, Any], set[uuid.UUID]]] = [
        ({}, {ana.profile_id, bo.profile_id, chen.profile_id}),
        ({"tags_all": ["runner_up", "re_invite"]}, {ana.profile_id}),
        ({"tags_any": ["re_invite", "no_show"]}, {ana.profile_id, chen.profile_id}),
        ({"tags_none": ["runner_up"]}, {chen.profile_id}),
        ({"tags_any": []}, {ana.profile_id, bo.profile_id, chen.profile_id}),
        ({"skills_any": ["React", "PYTHON"]}, {ana.profile_id, bo.profile_id}),
        ({"skills_all": ["python", "SQL"]}, {ana.profile_id}),
        ({"text": "数据分析"}, {ana.profile_id, chen.profile_id}),
        ({"text": "typescript"}, {bo.profile_id}),
        ({"min_stage_kind": "evaluation"}, {ana.profile_id, chen.profile_id}),
        ({"min_stage_kind": "offer"}, {ana.profile_id}),
        ({"engagement_min": 60}, {ana.profile_id, chen.profile_id}),
        ({"engagement_min": 40, "engagement_max": 65}, {bo.profile_id, chen.profile_id}),
        ({"active_after": "2026-01-01T00:00:00+08:00"}, {ana.profile_id}),
        ({"active_before": "2025-12-01T00:00:00Z"}, {bo.profile_id, chen.profile_id}),
        ({"location": "SHANGHAI"}, {ana.profile_id, bo.profile_id}),
        ({"exclude_on_hold": True}, {ana.profile_id, chen.profile_id}),
        ({"job_id": str(job)}, {chen.profile_id}),
        (
            {"tags_any": ["runner_up"], "engagement_min": 50, "location": "shanghai"},
            {ana.profile_id},
        ),
    ]
    for filters, expected in cases:
        assert await selected(pool, filters) == expected, filters


async def test_an_ended_tag_no_longer_selects_its_person(
    pool: Running, db: asyncpg.Connection
) -> None:
    still = await a_person(db, tags=["re_invite"], tags_until=T0 + timedelta(days=3650))
    ended = await a_person(db, tags=["re_invite"], tags_until=T0 - timedelta(days=1))

    assert await selected(pool, {"tags_any": ["re_invite"]}) == {still.profile_id}
    assert await selected(pool, {"tags_none": ["re_invite"]}) == {ended.profile_id}


async def test_merged_and_anonymized_profiles_are_never_in_a_segment(
    pool: Running, db: asyncpg.Connection
) -> None:
    kept = await a_person(db, tags=["runner_up"])
    await a_person(db, tags=["runner_up"], merged_into=kept.profile_id)
    await a_person(db, tags=["runner_up"], anonymized=True)

    assert await selected(pool, {"tags_any": ["runner_up"]}) == {kept.profile_id}
    assert await selected(pool, {}) == {kept.profile_id}


async def test_preview_answers_like_the_saved_segment_and_saves_nothing(
    pool: Running, db: asyncpg.Connection
) -> None:
    for n in range(3):
        await a_person(db, tags=["runner_up"], last_activity_at=T0 - timedelta(hours=n))
    filters = {"tags_any": ["runner_up"]}
    segment = await a_segment(pool, filters)

    previewed = await preview(pool, filters, AS_POOL_HR)
    saved = await pool.client.get(f"/v1/segments/{segment['id']}/profiles", headers=AS_POOL_HR)

    assert previewed.status_code == 200
    assert previewed.json() == saved.json()
    assert previewed.json()["count"] == 3
    assert await db.fetchval("SELECT count(*) FROM talentpool.segments") == 1


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"engagement_min": 101}, "filters.engagement_min"),
        ({"engagement_min": -1}, "filters.engagement_min"),
        ({"engagement_min": 70, "engagement_max": 60}, "filters.engagement_max"),
        ({"salary": 20000}, "filters.salary"),
        ({"tags_any": ["Bad Tag"]}, "filters.tags_any.0"),
        ({"tags_all": "runner_up"}, "filters.tags_all"),
        ({"skills_any": [""]}, "filters.skills_any.0"),
        ({"min_stage_kind": "ceo"}, "filters.min_stage_kind"),
        ({"text": "!!! ???"}, "filters.text"),
        ({"text": ""}, "filters.text"),
        ({"active_after": "2026-01-01T00:00:00"}, "filters.active_after"),
        (
            {"active_after": "2026-01-01T00:00:00Z", "active_before": "2025-01-01T00:00:00Z"},
            "filters.active_before",
        ),
        ({"location": ""}, "filters.location"),
        ({"job_id": "job-7"}, "filters.job_id"),
        ({"exclude_on_hold": "sometimes"}, "filters.exclude_on_hold"),
    ],
)
async def test_invalid_filter_is_refused_naming_the_field(
    pool: Running, filters: dict[str, Any], field: str
) -> None:
    saved = await pool.client.post(
        "/v1/segments", json={"name": "Bad", "filters": filters}, headers=AS_POOL_HR
    )
    previewed = await preview(pool, filters, AS_POOL_HR)

    for response in (saved, previewed):
        problem = assert_problem(response, 422)
        assert [(e["location"], e["field"]) for e in problem["errors"]] == [("body", field)]


async def test_segment_is_replaced_only_at_the_version_read(
    pool: Running, db: asyncpg.Connection
) -> None:
    wide = await a_person(db, tags=["runner_up"], location="Beijing")
    segment = await a_segment(pool, {"tags_any": ["runner_up"]})
    url = f"/v1/segments/{segment['id']}"
    body = {"name": "Beijing runners-up", "filters": {"location": "beijing"}}

    replaced = await pool.client.put(url, json=body, headers={**AS_POOL_HR, "If-Match": '"1"'})
    stale = await pool.client.put(url, json=body, headers={**AS_POOL_HR, "If-Match": '"1"'})
    people = await pool.client.get(f"{url}/profiles", headers=AS_POOL_HR)

    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["etag"] == '"2"'
    assert replaced.json()["name"] == "Beijing runners-up"
    assert replaced.json()["filters"] == {"location": "beijing", "exclude_on_hold": False}
    assert assert_problem(stale, 412, "version-mismatch")["current_version"] == 2
    assert [item["profile_id"] for item in people.json()["items"]] == [str(wide.profile_id)]


async def test_deleted_segment_is_gone(pool: Running) -> None:
    segment = await a_segment(pool, {"tags_any": ["runner_up"]})
    url = f"/v1/segments/{segment['id']}"

    deleted = await pool.client.delete(url, headers=AS_POOL_HR)
    again = await pool.client.delete(url, headers=AS_POOL_HR)

    assert deleted.status_code == 204
    assert_problem(again, 404, "not-found")
    assert_problem(await pool.client.get(url, headers=AS_POOL_HR), 404)


async def test_a_cursor_the_service_did_not_issue_is_refused(pool: Running) -> None:
    response = await preview(pool, {}, AS_POOL_HR, cursor="not-a-cursor")

    assert_problem(response, 400, "invalid-cursor")


async def test_creating_a_segment_again_with_the_same_idempotency_key_creates_one(
    pool: Running, db: asyncpg.Connection
) -> None:
    body = {"name": "Analysts", "filters": {"text": "数据分析"}}
    headers = {**AS_POOL_HR, "Idempotency-Key": "segment-analysts-1"}

    first = await pool.client.post("/v1/segments", json=body, headers=headers)
    second = await pool.client.post("/v1/segments", json=body, headers=headers)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert await db.fetchval("SELECT count(*) FROM talentpool.segments") == 1


async def test_admins_see_every_segment_and_other_hr_none_of_anothers(
    pool: Running,
) -> None:
    mine = await a_segment(pool, {"tags_any": ["runner_up"]})
    theirs = await a_segment(pool, {"engagement_min": 10}, headers=AS_OTHER_HR)

    own_list = await pool.client.get("/v1/segments", headers=AS_POOL_HR)
    admin_list = await pool.client.get("/v1/segments", headers=AS_ADMIN)
    admin_read = await pool.client.get(f"/v1/segments/{mine['id']}", headers=AS_ADMIN)

    assert [item["id"] for item in own_list.json()["items"]] == [mine["id"]]
    assert {item["id"] for item in admin_list.json()["items"]} == {mine["id"], theirs["id"]}
    assert admin_read.status_code == 200
