"""Each service's Alembic history builds exactly the schema its models describe, and the test
kit's history runs down to nothing and back up again."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from notifier.app import spec as notifier_spec
from pipeline.app import spec as pipeline_spec
from scheduler.app import spec as scheduler_spec
from shared.migrations import downgrade, schema_differences, upgrade
from shared.service import ServiceSpec
from talentpool.app import spec as talentpool_spec
from tests.support import testkit


@pytest.mark.parametrize(
    "spec",
    [pipeline_spec, scheduler_spec, notifier_spec, talentpool_spec, testkit.spec],
    ids=lambda spec: spec.name,
)
async def test_models_match_the_migrated_database(spec: ServiceSpec) -> None:
    differences = await schema_differences(spec.settings_class(), spec)

    assert differences == []


async def _tables(db: asyncpg.Connection, schema: str) -> set[str]:
    rows = await db.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)
    return {row["tablename"] for row in rows}


async def test_testkit_downgrades_to_base_and_upgrades_back_to_head(
    db: asyncpg.Connection,
) -> None:
    settings = testkit.spec.settings_class()
    at_head = await _tables(db, "testkit")

    await asyncio.to_thread(downgrade, settings, testkit.spec, "base")
    at_base = await _tables(db, "testkit")
    version_at_base = await db.fetchval("SELECT count(*) FROM testkit.alembic_version")
    await asyncio.to_thread(upgrade, settings, testkit.spec)

    assert at_base == {"alembic_version"}
    assert version_at_base == 0
    assert await _tables(db, "testkit") == at_head
    assert {"notes", "effects", "outbox", "link_tokens"} <= at_head
    assert await schema_differences(settings, testkit.spec) == []
    functions = await db.fetchval(
        """SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'testkit' AND p.proname = 'outbox_notify'"""
    )
    assert functions == 1


async def test_drift_between_models_and_database_is_reported(db: asyncpg.Connection) -> None:
    await db.execute("ALTER TABLE testkit.notes ADD COLUMN stray integer")
    try:
        differences = await schema_differences(testkit.spec.settings_class(), testkit.spec)
    finally:
        await db.execute("ALTER TABLE testkit.notes DROP COLUMN stray")

    assert [(kind, schema, table, column.name) for kind, schema, table, column in differences] == [
        ("remove_column", "testkit", "notes", "stray")
    ]
