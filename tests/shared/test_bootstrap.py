"""Each service's database role may touch only its own schema, and bootstrapping (database,
roles, schemas) can run again and again."""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest

from notifier.app import spec as notifier_spec
from pipeline.app import spec as pipeline_spec
from shared.bootstrap import bootstrap, scram_sha256_verifier
from tests.support import environment, testkit


@pytest.fixture
async def as_pipeline() -> AsyncIterator[asyncpg.Connection]:
    """A connection as the pipeline service's own role (trust authentication on loopback)."""
    connection = await asyncpg.connect(
        f"postgresql://pipeline@127.0.0.1:5432/{environment.DATABASE}"
    )
    yield connection
    await connection.close()


async def test_service_role_reads_and_writes_its_own_schema(
    as_pipeline: asyncpg.Connection,
) -> None:
    async with as_pipeline.transaction():
        await as_pipeline.execute(
            """INSERT INTO pipeline.outbox (event_id, event_type, subject, payload)
               VALUES (gen_random_uuid(), 'probe.v1', 's', '{}')"""
        )
        assert await as_pipeline.fetchval("SELECT count(*) FROM pipeline.outbox") == 1
        # Its search path starts at its own schema.
        assert await as_pipeline.fetchval("SELECT count(*) FROM outbox") == 1


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM notifier.outbox",
        "INSERT INTO notifier.inbox (event_id, handler, event_type) "
        "VALUES (gen_random_uuid(), 'h', 't')",
        "SELECT * FROM testkit.notes",
        "CREATE TABLE notifier.intruder (id int)",
    ],
    ids=["read-other", "write-other", "read-testkit", "create-in-other"],
)
async def test_service_role_is_refused_other_schemas(
    as_pipeline: asyncpg.Connection, statement: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_pipeline.execute(statement)


async def test_service_role_cannot_create_in_public_or_new_schemas(
    as_pipeline: asyncpg.Connection,
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_pipeline.execute("CREATE TABLE public.intruder (id int)")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_pipeline.execute("CREATE SCHEMA intruder")


async def test_service_role_owns_nothing_outside_its_schema(db: asyncpg.Connection) -> None:
    owned_elsewhere = await db.fetch(
        """SELECT n.nspname, c.relname FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE pg_get_userbyid(c.relowner) = 'pipeline'
             AND n.nspname NOT IN ('pipeline', 'pg_toast')"""
    )

    assert owned_elsewhere == []


async def test_bootstrap_can_run_again_without_changing_anything(
    db: asyncpg.Connection, as_pipeline: asyncpg.Connection
) -> None:
    for spec in (pipeline_spec, notifier_spec, testkit.spec):
        settings = spec.settings_class()
        await bootstrap(settings, spec.extensions)
        await bootstrap(settings, spec.extensions)

    schemas = await db.fetch(
        """SELECT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace
           WHERE nspname = ANY($1::text[]) ORDER BY nspname""",
        ["notifier", "pipeline", "testkit"],
    )
    assert [(r["nspname"], r["owner"]) for r in schemas] == [
        ("notifier", "notifier"),
        ("pipeline", "pipeline"),
        ("testkit", "testkit"),
    ]
    assert await as_pipeline.fetchval("SELECT count(*) FROM pipeline.outbox") == 0
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_pipeline.execute("SELECT * FROM notifier.outbox")


async def test_scram_verifier_matches_the_one_postgresql_computes(
    admin_connection: asyncpg.Connection,
) -> None:
    role = f"scram_probe_{secrets.token_hex(4)}"
    await admin_connection.execute(f"CREATE ROLE {role}")
    try:
        await admin_connection.execute("SET password_encryption = 'scram-sha-256'")
        await admin_connection.execute(f"ALTER ROLE {role} PASSWORD 'p@ss wörd'")
        stored = await admin_connection.fetchval(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role
        )
        iterations, salt = stored.removeprefix("SCRAM-SHA-256$").split("$")[0].split(":")
        ours = scram_sha256_verifier(
            "p@ss wörd", iterations=int(iterations), salt=base64.b64decode(salt)
        )
        assert ours == stored
    finally:
        await admin_connection.execute(f"DROP ROLE {role}")
