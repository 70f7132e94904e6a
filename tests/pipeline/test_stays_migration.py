"""Migration 0003 adds ``stage_changes.from_stage_entered_at`` and fills it from the history a
database already has, with what the analytics computed at read time until then."""

from __future__ import annotations

import asyncio
import importlib.util
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import ModuleType

import asyncpg
import pytest

from pipeline.app import spec as pipeline_spec
from pipeline.settings import PipelineSettings
from shared.bootstrap import bootstrap
from shared.migrations import downgrade, schema_differences, upgrade
from tests.pipeline import analytics_rows as rows
from tests.support import database, environment

T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
async def old_database() -> AsyncIterator[tuple[PipelineSettings, asyncpg.Connection]]:
    """A database of its own, with the pipeline migrated only up to 0002."""
    name = f"{environment.DATABASE}_stays"
    settings = PipelineSettings(database_name=name)
    await bootstrap(settings, pipeline_spec.extensions)
    await asyncio.to_thread(upgrade, settings, pipeline_spec, "0002")
    connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}")
    try:
        yield settings, connection
    finally:
        await connection.close()
        admin = await asyncpg.connect(database.PLAIN_ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def _old_application(
    connection: asyncpg.Connection,
    job_id: uuid.UUID,
    moves: list[tuple[timedelta, str, str, str]],
) -> uuid.UUID:
    """An application in the 0002 schema created at T0, then ``moves``: (time after creation,
    transition, from_stage, to_stage). 0002 has no status on a change."""
    candidate_id, application_id = uuid.uuid4(), uuid.uuid4()
    await connection.execute(
        """INSERT INTO pipeline.candidates (id, full_name, email, created_at)
           VALUES ($1, $2, $3, $4)""",
        candidate_id,
        "Person",
        f"{candidate_id}@example.com",
        T0,
    )
    await connection.execute(
        """INSERT INTO pipeline.applications (id, job_id, candidate_id, stage_key, status,
                                              version, created_at, updated_at)
           VALUES ($1, $2, $3, $4, 'active', $5, $6, $6)""",
        application_id,
        job_id,
        candidate_id,
        moves[-1][3] if moves else "ai_interview",
        len(moves) + 1,
        T0,
    )
    await connection.executemany(
        """INSERT INTO pipeline.stage_changes (application_id, transition, from_stage, to_stage,
                                               actor_kind, actor_id, version, occurred_at)
           VALUES ($1, $2, $3, $4, 'hr', 'hr-alice', $5, $6)""",
        [
            (application_id, transition, from_stage, to_stage, version, T0 + after)
            for version, (after, transition, from_stage, to_stage) in enumerate(moves, start=2)
        ],
    )
    return application_id


async def _stay_starts(
    connection: asyncpg.Connection, application_id: uuid.UUID
) -> list[datetime | None]:
    return [
        row["from_stage_entered_at"]
        for row in await connection.fetch(
            """SELECT from_stage_entered_at FROM pipeline.stage_changes
               WHERE application_id = $1 ORDER BY occurred_at, id""",
            application_id,
        )
    ]


async def test_upgrade_fills_each_change_with_when_the_stay_it_ends_began(
    old_database: tuple[PipelineSettings, asyncpg.Connection],
) -> None:
    settings, connection = old_database
    job_id = uuid.uuid4()
    await connection.execute(
        """INSERT INTO pipeline.jobs (id, title, job_type, owner_ids, stages, created_by,
                                      created_at)
           VALUES ($1, 'Backend engineer', 'basic', ARRAY['hr-alice'], '[]', 'hr-alice', $2)""",
        job_id,
        T0,
    )
    moved_back = await _old_application(
        connection,
        job_id,
        [
            (2 * HOUR, "advance", "ai_interview", "round_1"),
            (5 * HOUR, "move", "round_1", "ai_interview"),
        ],
    )
    reopened = await _old_application(
        connection,
        job_id,
        [
            (1 * HOUR, "advance", "ai_interview", "round_1"),
            (3 * HOUR, "reject", "round_1", "round_1"),
            (20 * HOUR, "reopen", "round_1", "round_1"),
            (24 * HOUR, "advance", "round_1", "round_2"),
        ],
    )

    await asyncio.to_thread(upgrade, settings, pipeline_spec)

    assert await _stay_starts(connection, moved_back) == [T0, T0 + 2 * HOUR]
    # Changes from before 0003 all got status "active"; the rejection still ends the stay
    # and the reopen none (the time rejected is not time in round_1).
    assert await _stay_starts(connection, reopened) == [T0, T0 + 1 * HOUR, None, T0 + 20 * HOUR]
    # 0004: each change gets its application's job, each application the stages it entered.
    assert (
        await connection.fetchval(
            "SELECT count(*) FROM pipeline.stage_changes WHERE job_id IS DISTINCT FROM $1", job_id
        )
        == 0
    )
    reached = await connection.fetch(
        "SELECT id, reached_stages FROM pipeline.applications WHERE id = ANY($1)",
        [moved_back, reopened],
    )
    assert {row["id"]: row["reached_stages"] for row in reached} == {
        moved_back: ["round_1", "ai_interview"],
        reopened: ["round_1", "round_2"],
    }
    assert await schema_differences(settings, pipeline_spec) == []

    await asyncio.to_thread(downgrade, settings, pipeline_spec, "0002")

    columns = await connection.fetch(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'pipeline' AND table_name = 'stage_changes'"
    )
    assert "from_stage_entered_at" not in {row["column_name"] for row in columns}


def _migration() -> ModuleType:
    path = pipeline_spec.migrations_dir / "0003_pipeline_domain.py"
    spec = importlib.util.spec_from_file_location("pipeline_migration_0003", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_backfill_gives_the_values_transitions_write(db: asyncpg.Connection) -> None:
    job_id = await rows.job(db, created_at=T0)
    ids = [
        await rows.application(
            db,
            job_id,
            created_at=T0,
            moves=[
                (2 * HOUR, "reject", "ai_interview", "rejected"),
                (50 * HOUR, "reopen", "ai_interview", "active"),
                (54 * HOUR, "advance", "round_1", "active"),
                (60 * HOUR, "move", "offer", "active"),
                (70 * HOUR, "hire", "offer", "hired"),
            ],
        ),
        await rows.application(
            db,
            job_id,
            created_at=T0 + HOUR,
            moves=[
                (1 * HOUR, "advance", "round_1", "active"),
                (3 * HOUR, "withdraw", "round_1", "withdrawn"),
            ],
        ),
        await rows.application(db, job_id, created_at=T0),
    ]
    written = {id_: await _stay_starts(db, id_) for id_ in ids}
    await db.execute("UPDATE pipeline.stage_changes SET from_stage_entered_at = NULL")

    await db.execute(_migration().BACKFILL_STAY_STARTS)

    assert {id_: await _stay_starts(db, id_) for id_ in ids} == written
    assert written[ids[0]] == [T0, None, T0 + 50 * HOUR, T0 + 54 * HOUR, T0 + 60 * HOUR]
