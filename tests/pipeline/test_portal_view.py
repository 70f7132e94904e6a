"""The candidate's view: a parcel-style timeline with expected dates in business days, only what
the candidate may see, in zh-CN or en."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

from pipeline.app import spec as pipeline_spec
from shared.clock import ManualClock
from tests.pipeline.portal_support import (
    FRIDAY_EVENING,
    HR,
    SHANGHAI,
    bearer,
    issue_link,
    make_application,
    record_change,
)
from tests.support.running import Running, api
from tests.support.tokens import auth


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(FRIDAY_EVENING.astimezone(UTC))


@pytest.fixture
async def portal(clock: ManualClock) -> AsyncIterator[Running]:
    async with api(pipeline_spec, clock=clock) as service:
        yield service


def end_of(year: int, month: int, day: int) -> str:
    """The end of a day in Shanghai, as the API shows it (in UTC)."""
    return utc(datetime(year, month, day, 23, 59, 59, tzinfo=SHANGHAI))


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def view_of(
    portal: Running, application_id: uuid.UUID, language: str | None = None
) -> dict[str, Any]:
    issued = await issue_link(portal.client, application_id)
    headers = bearer(issued["token"])
    if language is not None:
        headers["Accept-Language"] = language
    response = await portal.client.get("/v1/portal/application", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def states(view: dict[str, Any]) -> list[tuple[str, str]]:
    return [(stage["key"], stage["state"]) for stage in view["timeline"]]


# The timeline and its dates


async def test_a_new_application_shows_its_first_stage_due_in_business_days_and_the_rest_ahead(
    portal: Running, db: asyncpg.Connection
) -> None:
    # Entered on Friday evening; the AI interview takes 2 business days: Monday and Tuesday.
    arranged = await make_application(db)

    view = await view_of(portal, arranged.application_id)

    assert view["status"] == "active"
    assert view["current_stage"] == "ai_interview"
    assert view["expected_by"] == end_of(2026, 3, 17)
    assert view["overdue"] is False
    assert view["calendar_known"] is True
    assert states(view) == [
        ("ai_interview", "current"),
        ("round_1", "upcoming"),
        ("round_2", "upcoming"),
        ("offer", "upcoming"),
    ]
    current, round_1, round_2, offer = view["timeline"]
    assert current["entered_at"] == utc(FRIDAY_EVENING)
    # Projections, each counted from the one before: +1, +3, +5 business days.
    assert round_1["expected_by"] == end_of(2026, 3, 18)
    assert round_2["expected_by"] == end_of(2026, 3, 23)
    assert offer["expected_by"] == end_of(2026, 3, 30)
    assert all(stage["entered_at"] is None for stage in (round_1, round_2, offer))


async def test_stages_done_show_when_they_were_entered_and_left(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(
        db, stage_key="round_2", entered_at=FRIDAY_EVENING, created_at=at(2026, 3, 2)
    )
    await record_change(
        db,
        arranged.application_id,
        from_stage="ai_interview",
        to_stage="round_1",
        at=at(2026, 3, 4),
        version=2,
    )
    await record_change(
        db,
        arranged.application_id,
        from_stage="round_1",
        to_stage="round_2",
        at=FRIDAY_EVENING,
        version=3,
    )

    view = await view_of(portal, arranged.application_id)

    assert states(view) == [
        ("ai_interview", "done"),
        ("round_1", "done"),
        ("round_2", "current"),
        ("offer", "upcoming"),
    ]
    ai_interview, round_1, round_2, _ = view["timeline"]
    assert (ai_interview["entered_at"], ai_interview["left_at"]) == (
        utc(at(2026, 3, 2)),
        utc(at(2026, 3, 4)),
    )
    assert (round_1["entered_at"], round_1["left_at"]) == (
        utc(at(2026, 3, 4)),
        utc(FRIDAY_EVENING),
    )
    assert round_2["expected_by"] == end_of(2026, 3, 18)  # 3 business days from Friday


async def test_a_stage_moved_past_without_a_visit_is_skipped(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db, stage_key="round_2", created_at=at(2026, 3, 2))
    await record_change(
        db,
        arranged.application_id,
        from_stage="ai_interview",
        to_stage="round_2",
        at=FRIDAY_EVENING,
        version=2,
        transition="move",
    )

    view = await view_of(portal, arranged.application_id)

    assert states(view)[:3] == [
        ("ai_interview", "done"),
        ("round_1", "skipped"),
        ("round_2", "current"),
    ]


async def test_a_stage_past_its_expected_completion_is_overdue_and_projections_start_from_now(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    arranged = await make_application(db)
    clock.set(at(2026, 3, 18, 9).astimezone(UTC))  # Wednesday, the AI interview was due Tuesday

    view = await view_of(portal, arranged.application_id)

    assert view["expected_by"] == end_of(2026, 3, 17)
    assert view["overdue"] is True
    assert view["timeline"][0]["overdue"] is True
    assert view["timeline"][1]["expected_by"] == end_of(2026, 3, 19)  # 1 day after today


async def test_national_day_week_is_skipped_in_the_expected_date(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    entered = at(2026, 9, 30, 15)
    clock.set(entered.astimezone(UTC))
    arranged = await make_application(db, entered_at=entered)

    view = await view_of(portal, arranged.application_id)

    # 1-7 October are off; Thursday the 8th and Friday the 9th are the 2 business days.
    assert view["expected_by"] == end_of(2026, 10, 9)
    # Round 1 (1 day) lands on the make-up Saturday, 10 October.
    assert view["timeline"][1]["expected_by"] == end_of(2026, 10, 10)


async def test_an_administrators_holiday_moves_the_expected_date(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)
    before = await view_of(portal, arranged.application_id)

    put = await portal.client.put(
        "/v1/calendar/days/2026-03-16",
        json={"kind": "holiday", "name": "Company day"},
        headers=auth("admin", "admin-zoe"),
    )
    after = await view_of(portal, arranged.application_id)

    assert put.status_code == 201
    assert before["expected_by"] == end_of(2026, 3, 17)
    assert after["expected_by"] == end_of(2026, 3, 18)


async def test_dates_in_a_year_without_official_holidays_are_flagged(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    entered = at(2026, 12, 30, 15)
    clock.set(entered.astimezone(UTC))
    arranged = await make_application(db, entered_at=entered)

    view = await view_of(portal, arranged.application_id)

    assert view["calendar_known"] is False
    assert view["expected_by"] == end_of(2027, 1, 1)  # weekdays only in 2027


# How an application that ended looks


async def test_a_rejection_shows_where_it_ended_with_a_reason_meant_for_candidates(
    portal: Running, db: asyncpg.Connection
) -> None:
    await db.execute(
        """INSERT INTO pipeline.rejection_reasons (code, label_zh, label_en, candidate_visible,
                                                   created_at)
           VALUES ('position_filled', '职位已招满', 'The position has been filled', true, now())
           ON CONFLICT (code) DO UPDATE SET label_zh = excluded.label_zh,
               label_en = excluded.label_en, candidate_visible = excluded.candidate_visible"""
    )
    arranged = await make_application(
        db, stage_key="round_1", status="rejected", rejection_reason="position_filled"
    )

    zh = await view_of(portal, arranged.application_id)
    en = await view_of(portal, arranged.application_id, "en")

    assert zh["status"] == "rejected"
    assert zh["rejection_reason"] == "职位已招满"
    assert en["rejection_reason"] == "The position has been filled"
    assert states(zh) == [("ai_interview", "skipped"), ("round_1", "ended")]
    assert zh["expected_by"] is None
    assert "position_filled" not in json.dumps(zh)


async def test_a_rejection_reason_not_meant_for_candidates_is_not_shown(
    portal: Running, db: asyncpg.Connection
) -> None:
    await db.execute(
        """INSERT INTO pipeline.rejection_reasons (code, label_zh, label_en, candidate_visible,
                                                   created_at)
           VALUES ('culture_fit', '文化不匹配', 'Culture fit', false, now())
           ON CONFLICT (code) DO UPDATE SET label_zh = excluded.label_zh,
               label_en = excluded.label_en, candidate_visible = excluded.candidate_visible"""
    )
    arranged = await make_application(db, status="rejected", rejection_reason="culture_fit")

    view = await view_of(portal, arranged.application_id, "en")

    assert view["rejection_reason"] is None
    assert view["status_label"] == "Not selected"
    assert "culture" not in json.dumps(view).lower()


# What the candidate may see of results, reviews and AI interviews


async def _result(
    db: asyncpg.Connection,
    application_id: uuid.UUID,
    *,
    state: str,
    score: str | None = None,
    expected_by: datetime | None = None,
    internal_note: str | None = None,
    candidate_message: str | None = None,
) -> uuid.UUID:
    result_id = uuid.uuid4()
    now = datetime.now(UTC)
    await db.execute(
        """INSERT INTO pipeline.results (id, application_id, stage_key, decision, to_stage,
               score, dimension_scores, internal_note, candidate_message, policy_mode, state,
               expected_by, released_at, created_by, version, created_at, updated_at)
           VALUES ($1, $2, 'ai_interview', 'advance', 'round_1', $3::numeric, $4::jsonb, $5, $6,
                   'approval', $7, $8, $9, $10, 1, $11, $11)""",
        result_id,
        application_id,
        score,
        json.dumps({"communication": 88.5}) if score else None,
        internal_note,
        candidate_message,
        state,
        expected_by,
        now if state == "released" else None,
        HR,
        now,
    )
    return result_id


async def _steps(db: asyncpg.Connection, result_id: uuid.UUID, states_: list[str]) -> None:
    for position, state in enumerate(states_, start=1):
        await db.execute(
            """INSERT INTO pipeline.approval_steps (id, result_id, position, approver_id, state)
               VALUES ($1, $2, $3, $4, $5)""",
            uuid.uuid4(),
            result_id,
            position,
            f"director-{position}",
            state,
        )


async def test_a_result_awaiting_approval_shows_when_it_is_expected_and_the_chains_progress(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)
    expected_by = at(2026, 3, 17, 18)
    result_id = await _result(
        db,
        arranged.application_id,
        state="pending_approval",
        score="91.00",
        expected_by=expected_by,
        internal_note="Strong but asked for a high salary",
    )
    await _steps(db, result_id, ["approved", "pending", "waiting"])

    zh = await view_of(portal, arranged.application_id)
    en = await view_of(portal, arranged.application_id, "en")

    assert zh["review"] == {
        "state": "under_review",
        "label": "结果审核中，预计 2026-03-17 18:00 前告知",  # noqa: RUF001
        "expected_by": utc(expected_by),
        "steps_done": 1,
        "steps_total": 3,
    }
    assert en["review"]["label"] == "Under review, expected by 2026-03-17 18:00 (China time)"
    text = json.dumps(zh)
    assert "91.0" not in text  # no score before release (not "91": ids may contain it)
    assert "salary" not in text
    assert "director" not in text  # no approver names
    assert zh["results"] == []


async def test_released_results_show_their_scores_and_message_but_not_the_internal_note(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)
    await _result(
        db,
        arranged.application_id,
        state="released",
        score="86.50",
        internal_note="Borderline, keep an eye on system design",
        candidate_message="Well done, see you in the first round.",
    )
    await _result(db, arranged.application_id, state="declined", score="12.00")

    view = await view_of(portal, arranged.application_id, "en")

    assert view["review"] is None
    assert len(view["results"]) == 1
    released = view["results"][0]
    assert released["stage_label"] == "AI interview"
    assert released["decision"] == "advance"
    assert float(released["score"]) == 86.5
    assert {k: float(v) for k, v in released["dimension_scores"].items()} == {"communication": 88.5}
    assert released["message"] == "Well done, see you in the first round."
    text = json.dumps(view)
    assert "system design" not in text
    assert "12.0" not in text


async def test_ai_interview_shows_its_status_but_never_its_score(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)
    await db.execute(
        """INSERT INTO pipeline.ai_interviews (id, application_id, vendor, status, score,
               dimension_scores, report_url, invited_at, started_at, completed_at, version,
               created_at, updated_at)
           VALUES ($1, $2, 'mianshi', 'completed', 77.25, '{"logic": 70}'::jsonb,
                   'https://vendor.example/report/1', $3, $4, $5, 3, $3, $5)""",
        uuid.uuid4(),
        arranged.application_id,
        at(2026, 3, 13, 9),
        at(2026, 3, 13, 14),
        at(2026, 3, 13, 15),
    )

    view = await view_of(portal, arranged.application_id)

    assert view["ai_interviews"] == [
        {
            "status": "completed",
            "label": "已完成",
            "invited_at": utc(at(2026, 3, 13, 9)),
            "started_at": utc(at(2026, 3, 13, 14)),
            "completed_at": utc(at(2026, 3, 13, 15)),
            "expired_at": None,
        }
    ]
    text = json.dumps(view)
    # Not "77" alone: the view's random ids may contain those digits.
    assert "77.25" not in text
    assert "score" not in text
    assert "report" not in text
    assert "mianshi" not in text


async def test_the_message_summary_counts_hrs_unread_messages(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)
    path = f"/v1/applications/{arranged.application_id}/messages"
    for text in ("Hello", "Are you free on Monday?"):
        await portal.client.post(path, json={"body": text}, headers=auth("hr", HR))
    issued = await issue_link(portal.client, arranged.application_id)
    await portal.client.post(
        "/v1/portal/messages", json={"body": "Yes"}, headers=bearer(issued["token"])
    )

    response = await portal.client.get("/v1/portal/application", headers=bearer(issued["token"]))

    summary = response.json()["messages"]
    assert summary["total"] == 3
    assert summary["unread"] == 2
    assert summary["last_message_at"] is not None
    assert "Monday" not in response.text


# Language


@pytest.mark.parametrize(
    ("candidate_locale", "accept_language", "locale", "label"),
    [
        ("zh-CN", None, "zh-CN", "AI面试"),
        ("zh-CN", "en", "en", "AI interview"),
        ("zh-CN", "en-US,en;q=0.9,zh-CN;q=0.8", "en", "AI interview"),
        ("zh-CN", "fr-FR, en;q=0.5", "en", "AI interview"),
        ("zh-CN", "zh-TW,en;q=0.9", "zh-CN", "AI面试"),
        ("zh-CN", "de", "zh-CN", "AI面试"),
        ("zh-CN", "en;q=0.3, zh;q=0.7", "zh-CN", "AI面试"),
        ("zh-CN", ";;;q=abc", "zh-CN", "AI面试"),
        # Without a header naming zh or en, the language the candidate applied in.
        ("en", None, "en", "AI interview"),
        ("en", "de", "en", "AI interview"),
        ("en", ";;;q=abc", "en", "AI interview"),
        ("en", "zh-CN", "zh-CN", "AI面试"),
    ],
)
async def test_the_view_is_in_the_language_asked_for_else_the_candidates_own(
    portal: Running,
    db: asyncpg.Connection,
    candidate_locale: str,
    accept_language: str | None,
    locale: str,
    label: str,
) -> None:
    arranged = await make_application(db)
    await db.execute(
        "UPDATE pipeline.candidates SET locale = $1 WHERE id = $2",
        candidate_locale,
        arranged.candidate_id,
    )
    issued = await issue_link(portal.client, arranged.application_id)
    headers = bearer(issued["token"])
    if accept_language is not None:
        headers["Accept-Language"] = accept_language

    response = await portal.client.get("/v1/portal/application", headers=headers)

    assert response.headers["content-language"] == locale
    assert "Accept-Language" in response.headers["vary"]
    view = response.json()
    assert view["locale"] == locale
    assert view["timeline"][0]["label"] == label


# Speed: the view is a fixed number of statements, whatever the history and thread


@contextmanager
def counting_statements(portal: Running) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engine = portal.runtime.db.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


async def test_the_view_takes_the_same_few_statements_with_a_long_history_and_thread(
    portal: Running, db: asyncpg.Connection
) -> None:
    stages = [
        {
            "key": f"stage_{i}",
            "kind": "interview",
            "name_zh": f"第{i}轮",
            "name_en": f"Round {i}",
            "sla_days": 2,
        }
        for i in range(10)
    ]
    arranged = await make_application(
        db, stages=stages, stage_key="stage_6", created_at=at(2026, 1, 5)
    )
    for i in range(6):
        await record_change(
            db,
            arranged.application_id,
            from_stage=f"stage_{i}",
            to_stage=f"stage_{i + 1}",
            at=at(2026, 1, 6 + i),
            version=i + 2,
        )
    await db.executemany(
        """INSERT INTO pipeline.messages (id, application_id, sender_kind, body, created_at)
           VALUES ($1, $2, $3, 'text', $4)""",
        [
            (
                uuid.uuid4(),
                arranged.application_id,
                "candidate" if i % 2 else "hr",
                FRIDAY_EVENING - timedelta(minutes=i),
            )
            for i in range(100)
        ],
    )
    issued = await issue_link(portal.client, arranged.application_id)
    await portal.client.get("/v1/portal/application", headers=bearer(issued["token"]))

    with counting_statements(portal) as statements:
        response = await portal.client.get(
            "/v1/portal/application", headers=bearer(issued["token"])
        )

    assert response.status_code == 200
    view = response.json()
    assert [stage["state"] for stage in view["timeline"]] == ["done"] * 6 + ["current"] + [
        "upcoming"
    ] * 3
    assert view["messages"]["total"] == 100
    assert view["messages"]["unread"] == 50
    # The link lookup and the view; the calendar comes from the cache.
    assert len(statements) == 2, statements
