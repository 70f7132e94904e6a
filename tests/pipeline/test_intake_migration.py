"""The intake step of migration 0003 encrypts the plaintext emails of a database migrated up to
0002, with the keys of the settings it runs with, and the downgrade gives them back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from pipeline.app import spec as pipeline_spec
from pipeline.candidates.contacts import EMAIL_CONTEXT
from pipeline.settings import PipelineSettings
from shared.bootstrap import bootstrap
from shared.crypto import Keyring, PiiKeysMissing, key_id_of
from shared.migrations import downgrade, schema_differences, upgrade
from tests.support import database, environment


@pytest.fixture
async def old_database() -> AsyncIterator[tuple[PipelineSettings, asyncpg.Connection]]:
    """A database of its own, with the pipeline migrated only up to 0002."""
    name = f"{environment.DATABASE}_intake"
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


async def _insert_plaintext(connection: asyncpg.Connection, *emails: str) -> list[uuid.UUID]:
    created = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
    ids = [uuid.uuid4() for _ in emails]
    await connection.executemany(
        "INSERT INTO pipeline.candidates (id, full_name, email, created_at) "
        "VALUES ($1, $2, $3, $4)",
        [
            (id_, f"Person {n}", email, created)
            for n, (id_, email) in enumerate(zip(ids, emails, strict=True))
        ],
    )
    return ids


async def test_upgrade_encrypts_plaintext_emails_and_drops_the_column(
    old_database: tuple[PipelineSettings, asyncpg.Connection],
) -> None:
    settings, connection = old_database
    ids = await _insert_plaintext(connection, "li.lei@example.com", "Han.Meimei@Example.com")

    await asyncio.to_thread(upgrade, settings, pipeline_spec)

    columns = await connection.fetch(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'pipeline' AND table_name = 'candidates'"
    )
    assert "email" not in {row["column_name"] for row in columns}
    rows = {
        row["id"]: row
        for row in await connection.fetch(
            "SELECT id, email_ciphertext, email_index, locale, created_at, updated_at "
            "FROM pipeline.candidates"
        )
    }
    keyring = Keyring.from_settings(settings)
    for id_, email in zip(ids, ["li.lei@example.com", "han.meimei@example.com"], strict=True):
        row = rows[id_]
        assert keyring.decrypt(row["email_ciphertext"], context=EMAIL_CONTEXT) == email
        assert row["email_index"] == keyring.blind_index(email, context=EMAIL_CONTEXT)
        assert key_id_of(row["email_ciphertext"]) == "test-1"
        assert row["locale"] == "zh-CN"
        assert row["updated_at"] == row["created_at"]
    assert await schema_differences(settings, pipeline_spec) == []

    await asyncio.to_thread(downgrade, settings, pipeline_spec, "0002")

    restored = await connection.fetch("SELECT id, email FROM pipeline.candidates")
    assert {row["id"]: row["email"] for row in restored} == {
        ids[0]: "li.lei@example.com",
        ids[1]: "han.meimei@example.com",
    }


async def test_upgrade_of_candidates_without_keys_stops_with_a_clear_error(
    old_database: tuple[PipelineSettings, asyncpg.Connection],
) -> None:
    settings, connection = old_database
    await _insert_plaintext(connection, "li.lei@example.com")
    keyless = settings.model_copy(update={"pii_keys": {}, "pii_index_key": None})

    with pytest.raises(PiiKeysMissing, match="PII_KEYS"):
        await asyncio.to_thread(upgrade, keyless, pipeline_spec)

    # Nothing of the failed step stayed: the plaintext row is as it was.
    assert await connection.fetchval("SELECT email FROM pipeline.candidates") == (
        "li.lei@example.com"
    )
