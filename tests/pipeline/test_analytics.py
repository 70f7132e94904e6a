"""Analytics over a small hand-made dataset, with the numbers worked out by hand.

Job "core" of hr-alice, stages ai_interview (SLA 2) > round_1 (3) > round_2 (3) > offer (5).
All created on Monday 2025-03-03, 10:00 in Shanghai (one minute apart); "now" is Tuesday
2025-03-11, 12:00 in Shanghai. March 2025 has no public holiday in China.

- A1: ai_interview 1 day, round_1 2 days, then in round_2 (since Thursday 6th).
- A2: ai_interview 3 days (due Wednesday 5th: breached), round_1 1 day, then rejected there.
- A3: still in ai_interview (due Wednesday 5th: breached now).
- A4: ai_interview 1 day, then moved straight to offer (since Tuesday 4th, due Tuesday 11th).

Job "basic" of hr-bob: B1 in round_1, with an interview no-show.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from pipeline.app import spec as pipeline_spec
from shared.clock import ManualClock
from tests.pipeline import analytics_rows as rows
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth

MONDAY = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
NOW = datetime(2025, 3, 11, 4, 0, tzinfo=UTC)  # Tuesday 12:00 in Shanghai
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
ALICE = auth("hr", "hr-alice")
ADMIN = auth("admin", "admin-zoe")
ENDPOINTS = ["funnel", "time-in-stage", "sla-breaches", "ai-interviews", "no-shows"]


@dataclass
class Data:
    job: uuid.UUID
    other_job: uuid.UUID
    a1: uuid.UUID
    a2: uuid.UUID
    a3: uuid.UUID
    a4: uuid.UUID


@pytest.fixture
async def clocked() -> AsyncIterator[Running]:
    async with api(pipeline_spec, clock=ManualClock(NOW)) as service:
        yield service


@pytest.fixture
async def data(db: asyncpg.Connection) -> Data:
    await rows.release_policy(db, "core", "approval")
    job = await rows.job(db, job_type="core", created_at=MONDAY)
    a1 = await rows.application(
        db,
        job,
        created_at=MONDAY,
        moves=[
            (1 * DAY, "advance", "round_1", "active"),
            (3 * DAY, "advance", "round_2", "active"),
        ],
    )
    a2 = await rows.application(
        db,
        job,
        created_at=MONDAY + timedelta(minutes=1),
        moves=[
            (3 * DAY, "advance", "round_1", "active"),
            (4 * DAY, "reject", "round_1", "rejected"),
        ],
    )
    a3 = await rows.application(db, job, created_at=MONDAY + timedelta(minutes=2))
    a4 = await rows.application(
        db,
        job,
        created_at=MONDAY + timedelta(minutes=3),
        moves=[(1 * DAY, "move", "offer", "active")],
    )
    other_job = await rows.job(db, owner="hr-bob", title="Designer", created_at=MONDAY)
    b1 = await rows.application(
        db, other_job, created_at=MONDAY, moves=[(1 * DAY, "advance", "round_1", "active")]
    )
    await rows.no_show(
        db, b1, stage_key="round_1", kind="interview", policy_mode="immediate", occurred_at=NOW
    )
    return Data(job=job, other_job=other_job, a1=a1, a2=a2, a3=a3, a4=a4)


async def _get(service: Running, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = await service.client.get(f"/v1/analytics/{path}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _by_key(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {stage["key"]: stage for stage in body["stages"]}


async def test_funnel_of_a_job_counts_reached_current_and_conversion_per_stage(
    clocked: Running, data: Data
) -> None:
    body = await _get(clocked, "funnel", ALICE, job_id=str(data.job))

    assert body["scope"]["job_id"] == str(data.job)
    assert body["scope"]["group_by"] == "stage"
    assert body["scope"]["applications"] == 4
    assert [
        (s["key"], s["position"], s["reached"], s["in_stage_now"], s["conversion_from_previous"])
        for s in body["stages"]
    ] == [
        ("ai_interview", 1, 4, 1, None),
        ("round_1", 2, 2, 0, 0.5),
        ("round_2", 3, 1, 1, 0.5),
        # A4 skipped both rounds, so more reached the offer than the round before it.
        ("offer", 4, 1, 1, 1.0),
    ]
    round_1 = _by_key(body)["round_1"]
    assert round_1["ended_here"] == {"rejected": 1, "withdrawn": 0, "hired": 0}
    assert (round_1["kind"], round_1["name_zh"], round_1["name_en"]) == (
        "interview",
        "一面",
        "First round",
    )


async def test_overall_funnel_groups_by_stage_kind_and_counts_an_application_once_per_kind(
    clocked: Running, data: Data
) -> None:
    body = await _get(clocked, "funnel", ALICE)

    assert body["scope"]["group_by"] == "kind"
    assert body["scope"]["applications"] == 4  # hr-bob's job is not hr-alice's
    assert [(s["key"], s["reached"], s["in_stage_now"]) for s in body["stages"]] == [
        ("ai_interview", 4, 1),
        ("interview", 2, 1),  # A1 went through two interview stages: counted once
        ("offer", 1, 1),
    ]
    assert all(s["name_en"] is None for s in body["stages"])


async def test_admin_overall_funnel_counts_every_job(clocked: Running, data: Data) -> None:
    body = await _get(clocked, "funnel", ADMIN)

    assert body["scope"]["applications"] == 5
    assert {s["key"]: s["reached"] for s in body["stages"]} == {
        "ai_interview": 5,
        "interview": 3,
        "offer": 1,
    }


async def test_period_counts_only_applications_created_in_it(clocked: Running, data: Data) -> None:
    body = await _get(
        clocked,
        "funnel",
        ALICE,
        job_id=str(data.job),
        **{"from": (MONDAY + timedelta(minutes=2)).isoformat(), "to": NOW.isoformat()},
    )

    assert body["scope"]["applications"] == 2  # A3 and A4
    assert [(s["key"], s["reached"]) for s in body["stages"]] == [
        ("ai_interview", 2),
        ("round_1", 0),
        ("round_2", 0),
        ("offer", 1),
    ]
    assert body["stages"][1]["conversion_from_previous"] == 0.0
    assert body["stages"][3]["conversion_from_previous"] is None  # nobody in round_2


async def test_time_in_stage_gives_median_and_p90_of_completed_stays(
    clocked: Running, data: Data
) -> None:
    body = await _get(clocked, "time-in-stage", ALICE, job_id=str(data.job))

    stages = _by_key(body)
    # ai_interview: 1, 1 and 3 days; p90 interpolates 1 + 0.8 * (3 - 1) = 2.6 days.
    assert stages["ai_interview"]["completed_stays"] == 3
    assert stages["ai_interview"]["open_stays"] == 1
    assert stages["ai_interview"]["median_seconds"] == pytest.approx(86_400)
    assert stages["ai_interview"]["p90_seconds"] == pytest.approx(2.6 * 86_400)
    # round_1: A1 two days, A2 one day until its rejection.
    assert stages["round_1"]["completed_stays"] == 2
    assert stages["round_1"]["median_seconds"] == pytest.approx(1.5 * 86_400)
    assert stages["round_1"]["p90_seconds"] == pytest.approx(1.9 * 86_400)
    assert (stages["round_2"]["completed_stays"], stages["round_2"]["open_stays"]) == (0, 1)
    assert stages["round_2"]["median_seconds"] is None
    assert stages["offer"]["open_stays"] == 1


async def test_time_after_a_rejection_until_a_reopen_is_not_a_stay(
    clocked: Running, db: asyncpg.Connection
) -> None:
    job = await rows.job(db, created_at=MONDAY)
    await rows.application(
        db,
        job,
        created_at=MONDAY,
        moves=[
            (2 * HOUR, "reject", "ai_interview", "rejected"),
            (50 * HOUR, "reopen", "ai_interview", "active"),
            (54 * HOUR, "advance", "round_1", "active"),
        ],
    )

    body = await _get(clocked, "time-in-stage", ALICE, job_id=str(job))

    ai = _by_key(body)["ai_interview"]
    assert ai["completed_stays"] == 2  # 2 hours, then 4 hours after the reopen
    assert ai["median_seconds"] == pytest.approx(3 * 3600)


async def test_overall_time_in_stage_pools_the_stays_of_a_kind(
    clocked: Running, data: Data
) -> None:
    body = await _get(clocked, "time-in-stage", ALICE)

    interview = _by_key(body)["interview"]
    assert interview["completed_stays"] == 2
    assert interview["open_stays"] == 1
    assert interview["median_seconds"] == pytest.approx(1.5 * 86_400)


async def test_sla_breaches_count_business_days_now_and_in_the_past(
    clocked: Running, data: Data
) -> None:
    body = await _get(clocked, "sla-breaches", ALICE, job_id=str(data.job))

    assert body["timezone"] == "Asia/Shanghai"
    assert body["calendar_unknown_years"] == []
    stages = _by_key(body)
    assert {
        key: (s["sla_days"], s["open_stays"], s["breached_now"], s["completed_stays"])
        for key, s in stages.items()
    } == {
        "ai_interview": (2, 1, 1, 3),
        "round_1": (3, 0, 0, 2),
        "round_2": (3, 1, 0, 0),
        "offer": (5, 1, 0, 0),
    }
    assert stages["ai_interview"]["breached_past"] == 1  # A2 left on Thursday, due Wednesday
    assert body["totals"] == {
        "open_stays": 3,
        "breached_now": 1,
        "completed_stays": 5,
        "breached_past": 1,
    }


async def test_a_make_up_workday_brings_a_due_day_forward(
    clocked: Running, data: Data, db: asyncpg.Connection
) -> None:
    # A1 entered round_2 on Thursday 6th: due Tuesday 11th, unless Saturday 8th is a workday.
    await db.execute(
        """INSERT INTO pipeline.calendar_days (day, kind, updated_by, updated_at)
           VALUES ($1, 'workday', 'admin-zoe', now())""",
        date(2025, 3, 8),
    )

    body = await _get(clocked, "sla-breaches", ALICE, job_id=str(data.job))

    assert _by_key(body)["round_2"]["breached_now"] == 1


async def test_public_holidays_are_not_business_days(
    clocked: Running, db: asyncpg.Connection
) -> None:
    # Entered on Monday 2024-09-30 with two business days: 1-7 October is the National Day
    # holiday, so it is due on Wednesday 9 October (Tuesday 8th is the first workday).
    job = await rows.job(db, created_at=datetime(2024, 9, 30, 2, 0, tzinfo=UTC))
    await rows.application(db, job, created_at=datetime(2024, 9, 30, 2, 0, tzinfo=UTC))
    results = []
    for moment in (
        datetime(2024, 10, 9, 12, 0, tzinfo=UTC),
        datetime(2024, 10, 10, 1, 0, tzinfo=UTC),
    ):
        async with api(pipeline_spec, clock=ManualClock(moment)) as service:
            body = await _get(service, "sla-breaches", ALICE, job_id=str(job))
            results.append(_by_key(body)["ai_interview"]["breached_now"])

    assert results == [0, 1]


async def test_ai_interview_rates_and_time_to_first_notice(
    clocked: Running, data: Data, db: asyncpg.Connection
) -> None:
    await rows.ai_interview(db, data.a1, invited_at=MONDAY, completed_at=MONDAY + 12 * HOUR)
    await rows.released_result(db, data.a1, MONDAY + DAY)  # 12 hours after completion
    await rows.released_result(db, data.a1, MONDAY + 3 * DAY)  # not the first notice
    await rows.ai_interview(db, data.a2, invited_at=MONDAY, completed_at=MONDAY + DAY)
    await rows.released_result(db, data.a2, MONDAY + 6 * HOUR)  # before completion: ignored
    await rows.released_result(db, data.a2, MONDAY + DAY + 6 * HOUR)  # 6 hours after
    await rows.ai_interview(db, data.a3, invited_at=MONDAY, expired_at=MONDAY + 3 * DAY)
    await rows.ai_interview(db, data.a4, invited_at=MONDAY)

    body = await _get(clocked, "ai-interviews", ALICE, job_id=str(data.job))

    assert (body["invited"], body["completed"], body["expired_without_completion"]) == (4, 2, 1)
    assert body["pending"] == 1
    assert (body["completion_rate"], body["no_show_rate"]) == (0.5, 0.25)
    notice = body["time_to_first_notice"]
    assert (notice["completed"], notice["notified"], notice["awaiting_notice"]) == (2, 2, 0)
    assert notice["median_seconds"] == pytest.approx(9 * 3600)
    assert notice["p90_seconds"] == pytest.approx(11.4 * 3600)


async def test_completed_ai_interview_without_a_released_result_awaits_notice(
    clocked: Running, data: Data, db: asyncpg.Connection
) -> None:
    await rows.ai_interview(db, data.a3, invited_at=MONDAY, completed_at=MONDAY + HOUR)

    body = await _get(clocked, "ai-interviews", ALICE)

    assert body["time_to_first_notice"]["awaiting_notice"] == 1
    assert body["time_to_first_notice"]["median_seconds"] is None


async def test_ai_interview_rates_are_null_without_invitations(
    clocked: Running, data: Data
) -> None:
    body = await _get(clocked, "ai-interviews", ALICE)

    assert (body["invited"], body["completion_rate"], body["no_show_rate"]) == (0, None, None)


async def test_no_show_rates_by_release_policy_mode(
    clocked: Running, data: Data, db: asyncpg.Connection
) -> None:
    await rows.no_show(
        db, data.a2, stage_key="round_1", kind="interview", policy_mode="approval", occurred_at=NOW
    )

    alice = await _get(clocked, "no-shows", ALICE)
    admin = await _get(clocked, "no-shows", ADMIN)

    assert alice["policies"] == [
        {
            "policy_mode": "immediate",
            "interview": {"reached": 0, "no_shows": 0, "rate": None},
            "offer": {"reached": 0, "no_shows": 0, "rate": None},
        },
        {
            "policy_mode": "approval",
            "interview": {"reached": 2, "no_shows": 1, "rate": 0.5},
            "offer": {"reached": 1, "no_shows": 0, "rate": 0.0},
        },
    ]
    # hr-bob's job has no policy (immediate): B1 reached round_1 and did not turn up.
    assert admin["policies"][0]["interview"] == {"reached": 1, "no_shows": 1, "rate": 1.0}


async def test_job_without_applications_has_zero_rows_for_each_stage(
    clocked: Running, db: asyncpg.Connection
) -> None:
    job = await rows.job(db, created_at=MONDAY)

    for path in ("funnel", "time-in-stage", "sla-breaches"):
        body = await _get(clocked, path, ALICE, job_id=str(job))
        assert body["scope"]["applications"] == 0
        assert [stage["key"] for stage in body["stages"]] == [
            "ai_interview",
            "round_1",
            "round_2",
            "offer",
        ]
    funnel = await _get(clocked, "funnel", ALICE, job_id=str(job))
    assert [stage["reached"] for stage in funnel["stages"]] == [0, 0, 0, 0]


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_analytics_need_a_token(clocked: Running, path: str) -> None:
    response = await clocked.client.get(f"/v1/analytics/{path}")

    assert_problem(response, 401, "unauthorized")


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_interviewers_may_not_see_analytics(clocked: Running, path: str) -> None:
    response = await clocked.client.get(
        f"/v1/analytics/{path}", headers=auth("interviewer", "iv-1")
    )

    assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_hr_asking_about_a_job_they_do_not_own_gets_404(
    clocked: Running, data: Data, path: str
) -> None:
    response = await clocked.client.get(
        f"/v1/analytics/{path}", params={"job_id": str(data.other_job)}, headers=ALICE
    )

    assert_problem(response, 404, "not-found")


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_admin_may_ask_about_any_job(clocked: Running, data: Data, path: str) -> None:
    body = await _get(clocked, path, ADMIN, job_id=str(data.other_job))

    assert body["scope"]["applications"] == 1


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_period_ending_before_it_starts_is_refused(clocked: Running, path: str) -> None:
    response = await clocked.client.get(
        f"/v1/analytics/{path}",
        params={"from": NOW.isoformat(), "to": MONDAY.isoformat()},
        headers=ALICE,
    )

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == ["to"]


async def test_period_without_a_time_zone_is_refused(clocked: Running) -> None:
    response = await clocked.client.get(
        "/v1/analytics/funnel", params={"from": "2025-03-01T00:00:00"}, headers=ALICE
    )

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == ["from"]
