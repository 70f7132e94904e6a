"""Alembic, once per service: each service keeps its revisions in its own package
(``<service>/migrations/``) and its version table in its own schema, and migrates as its own
role. The environment script and the revision template are shared (``shared/alembic/``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

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
    return config


def upgrade(settings: ServiceSettings, spec: ServiceSpec, revision: str = "head") -> None:
    """Apply migrations (blocking; call from a thread inside an event loop)."""
    command.upgrade(alembic_config(settings, spec), revision)


def downgrade(settings: ServiceSettings, spec: ServiceSpec, revision: str) -> None:
    command.downgrade(alembic_config(settings, spec), revision)


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``env.py``."""
    schema = context.config.attributes["schema"]
    url = context.config.attributes["database_url"]

    def include_name(name: str | None, type_: str, parent_names: object) -> bool:
        return type_ != "schema" or name == schema

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            version_table_schema=schema,
            include_schemas=True,
            include_name=include_name,
            compare_type=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        # With the service schema off the search path, Alembic sees it as a named schema
        # (matching the metadata) rather than as the default one.
        engine = create_async_engine(
            url,
            poolclass=pool.NullPool,
            connect_args={"server_settings": {"search_path": "public"}},
        )
        try:
            async with engine.connect() as connection:
                await connection.run_sync(run)
                await connection.commit()
        finally:
            await engine.dispose()

    if context.is_offline_mode():
        raise RuntimeError("offline (SQL script) migrations are not supported")
    asyncio.run(run_async())
