"""Every stage change records when the stay it ends began (``from_stage_entered_at``), so the
analytics read a stay from one row: set by ``apply_transition`` through the HTTP API here."""

from __future__ import annotations

import importlib.util
import uuid
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import asyncpg
import pytest

from pipeline.app import spec as pipeline_spec
from shared.clock import ManualClock
from tests.pipeline.decision_fixtures import arrange, decide, seed_reasons, transition
from tests.support.running import api
from tests.support.tokens import auth

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
async def _reasons(db: asyncpg.Connection) -> None:
    await seed_reasons(db)


async def _stays(db: asyncpg.Connection, application_id: uuid.UUID) -> list[tuple[Any, ...]]:
    rows = await db.fetch(
        """SELECT transition, from_stage, from_stage_entered_at, occurred_at
           FROM pipeline.stage_changes WHERE application_id = $1 ORDER BY version""",
        application_id,
    )
    return [tuple(row) for row in rows]


async def _run(db: asyncpg.Connection, steps: list[tuple[timedelta, dict[str, Any]]]) -> uuid.UUID:
    """An application entered at T0 that makes ``steps`` (a wait, then a transition body)."""
    clock = ManualClock(T0)
    async with api(pipeline_spec, clock=clock) as pipeline:
        _, application_id = await arrange(db, entered_at=T0)
        for wait, body in steps:
            clock.advance(wait)
            response = await transition(pipeline.client, application_id, body)
            assert response.status_code == 200, response.text
    return application_id


async def test_advance_move_and_hire_each_record_when_the_stage_they_leave_was_entered(
    db: asyncpg.Connection,
) -> None:
    application_id = await _run(
        db,
        [
            (1 * HOUR, {"transition": "advance"}),
            (2 * HOUR, {"transition": "move", "to_stage": "offer"}),
            (3 * HOUR, {"transition": "hire"}),
        ],
    )

    assert await _stays(db, application_id) == [
        ("advance", "ai_interview", T0, T0 + 1 * HOUR),  # entered at creation
        ("move", "round_1", T0 + 1 * HOUR, T0 + 3 * HOUR),
        ("hire", "offer", T0 + 3 * HOUR, T0 + 6 * HOUR),
    ]


async def test_rejection_ends_the_stay_and_the_reopen_starts_a_new_one(
    db: asyncpg.Connection,
) -> None:
    application_id = await _run(
        db,
        [
            (1 * HOUR, {"transition": "advance"}),
            (2 * HOUR, {"transition": "reject", "reason_code": "other"}),
            (20 * HOUR, {"transition": "reopen"}),
            (4 * HOUR, {"transition": "advance"}),
        ],
    )

    assert await _stays(db, application_id) == [
        ("advance", "ai_interview", T0, T0 + 1 * HOUR),
        # The rejection does not leave round_1, but it ends the stay begun by the advance.
        ("reject", "round_1", T0 + 1 * HOUR, T0 + 3 * HOUR),
        # Rejected meanwhile: the reopen ends no stay, and starts the next one.
        ("reopen", "round_1", None, T0 + 23 * HOUR),
        ("advance", "round_1", T0 + 23 * HOUR, T0 + 27 * HOUR),
    ]


async def test_a_withdrawal_ends_the_stay_like_a_move(db: asyncpg.Connection) -> None:
    application_id = await _run(
        db, [(5 * HOUR, {"transition": "withdraw", "reason": "Took another offer"})]
    )

    assert await _stays(db, application_id) == [("withdraw", "ai_interview", T0, T0 + 5 * HOUR)]


async def test_a_released_result_records_the_stay_its_change_ends(
    db: asyncpg.Connection,
) -> None:
    clock = ManualClock(T0)
    async with api(pipeline_spec, clock=clock) as pipeline:
        _, application_id = await arrange(db, entered_at=T0)
        clock.advance(6 * HOUR)
        response = await decide(pipeline.client, application_id, {"decision": "advance"})

    assert response.json()["state"] == "released", response.text
    assert await _stays(db, application_id) == [("advance", "ai_interview", T0, T0 + 6 * HOUR)]


async def test_time_in_stage_of_a_history_made_through_the_api_leaves_out_the_rejected_time(
    db: asyncpg.Connection,
) -> None:
    clock = ManualClock(T0)
    async with api(pipeline_spec, clock=clock) as pipeline:
        job_id, first = await arrange(db, entered_at=T0)
        clock.advance(2 * HOUR)
        await transition(pipeline.client, first, {"transition": "reject", "reason_code": "other"})
        clock.advance(48 * HOUR)
        await transition(pipeline.client, first, {"transition": "reopen"})
        clock.advance(4 * HOUR)
        await transition(pipeline.client, first, {"transition": "advance"})

        response = await pipeline.client.get(
            "/v1/analytics/time-in-stage", params={"job_id": str(job_id)}, headers=auth()
        )

    assert response.status_code == 200, response.text
    ai_interview = response.json()["stages"][0]
    assert ai_interview["key"] == "ai_interview"
    assert ai_interview["completed_stays"] == 2  # 2 hours, then 4 hours after the reopen
    assert ai_interview["median_seconds"] == pytest.approx(3 * 3600)


def _read_columns_migration() -> ModuleType:
    path = pipeline_spec.migrations_dir / "0004_analytics_read_columns.py"
    spec = importlib.util.spec_from_file_location("pipeline_migration_0004", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_transitions_keep_the_stages_reached_the_job_and_the_stay_lengths(
    db: asyncpg.Connection,
) -> None:
    application_id = await _run(
        db,
        [
            (1 * HOUR, {"transition": "advance"}),
            (2 * HOUR, {"transition": "move", "to_stage": "ai_interview"}),
            (1 * HOUR, {"transition": "advance"}),
            (3 * HOUR, {"transition": "reject", "reason_code": "other"}),
            (20 * HOUR, {"transition": "reopen"}),
            (4 * HOUR, {"transition": "move", "to_stage": "offer"}),
        ],
    )
    reached = await db.fetchval(
        "SELECT reached_stages FROM pipeline.applications WHERE id = $1", application_id
    )
    changes = await db.fetch(
        """SELECT sc.job_id = a.job_id AS same_job, sc.stay_seconds
           FROM pipeline.stage_changes sc JOIN pipeline.applications a ON a.id = sc.application_id
           WHERE sc.application_id = $1 ORDER BY sc.version""",
        application_id,
    )

    # Each stage moved into, once, in the order first entered (the first stage, entered at
    # creation, only once a change moves back into it).
    assert reached == ["round_1", "ai_interview", "offer"]
    assert all(row["same_job"] for row in changes)
    assert [row["stay_seconds"] for row in changes] == [
        3600.0,
        7200.0,
        3600.0,
        10800.0,
        None,  # the reopen ends no stay
        14400.0,
    ]

    # Migration 0004 fills an existing history with the same stages.
    await db.execute(
        "UPDATE pipeline.applications SET reached_stages = '{}' WHERE id = $1", application_id
    )
    await db.execute(_read_columns_migration().BACKFILL_REACHED)
    assert (
        await db.fetchval(
            "SELECT reached_stages FROM pipeline.applications WHERE id = $1", application_id
        )
        == reached
    )
