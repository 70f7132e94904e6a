"""Alembic, once per service: each service keeps its revisions in its own package
(``<service>/migrations/``) and its version table in its own schema, and migrates as its own
role. The environment script and the revision template are shared (``shared/alembic/``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic import command, context
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shared.db.engine import service_url
from shared.settings import ServiceSettings

if TYPE_CHECKING:
    from shared.service import ServiceSpec

VERSION_TABLE = "alembic_version"
SCRIPT_LOCATION = Path(__file__).parent / "alembic"


def alembic_config(settings: ServiceSettings, spec: ServiceSpec) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("version_locations", str(spec.migrations_dir))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["database_url"] = service_url(settings)
    config.attributes["schema"] = settings.schema
    config.attributes["metadata"] = spec.metadata
    # For data migrations that need configuration, e.g. the keys that encrypt personal data.
    config.attributes["settings"] = settings
    return config


def upgrade(settings: ServiceSettings, spec: ServiceSpec, revision: str = "head") -> None:
    """Apply migrations (blocking; call from a thread inside an event loop)."""
    command.upgrade(alembic_config(settings, spec), revision)


def downgrade(settings: ServiceSettings, spec: ServiceSpec, revision: str) -> None:
    command.downgrade(alembic_config(settings, spec), revision)


def context_options(schema: str) -> dict[str, Any]:
    """Migration-context options every service uses: its own version table, and only its own
    schema looked at (by migrations, autogenerate and ``schema_differences`` alike)."""

    def include_name(name: str | None, type_: str, parent_names: object) -> bool:
        return type_ != "schema" or name == schema

    return {
        "version_table": VERSION_TABLE,
        "version_table_schema": schema,
        "include_schemas": True,
        "include_name": include_name,
        "compare_type": True,
    }


def _engine(url: str | URL) -> AsyncEngine:
    # With the service schema off the search path, Alembic sees it as a named schema
    # (matching the metadata) rather than as the default one.
    return create_async_engine(
        url,
        poolclass=pool.NullPool,
        connect_args={"server_settings": {"search_path": "public"}},
    )


async def schema_differences(settings: ServiceSettings, spec: ServiceSpec) -> list[Any]:
    """What autogenerate would put in a new revision: empty when the service's models and its
    migrated database agree."""

    def compare(connection: Connection) -> list[Any]:
        migration_context = MigrationContext.configure(
            connection, opts=context_options(settings.schema)
        )
        return list(compare_metadata(migration_context, spec.metadata))

    engine = _engine(service_url(settings))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``env.py``."""
    schema = context.config.attributes["schema"]
    url = context.config.attributes["database_url"]

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            transaction_per_migration=True,
            **context_options(schema),
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = _engine(url)
        try:
            async with engine.connect() as connection:
                # Two replicas or jobs migrating the same service at once take turns.
                lock = sa.text("SELECT pg_advisory_lock(hashtext(:name))")
                await connection.execute(lock, {"name": f"recruiting.migrate.{schema}"})
                await connection.commit()
                try:
                    await connection.run_sync(run)
                    await connection.commit()
                finally:
                    unlock = sa.text("SELECT pg_advisory_unlock(hashtext(:name))")
                    await connection.execute(unlock, {"name": f"recruiting.migrate.{schema}"})
                    await connection.commit()
        finally:
            await engine.dispose()

    if context.is_offline_mode():
        raise RuntimeError("offline (SQL script) migrations are not supported")
    asyncio.run(run_async())
