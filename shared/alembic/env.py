"""Alembic environment shared by every service; the service's metadata, schema and URL arrive
in ``config.attributes`` (see ``shared.migrations.alembic_config``)."""

from alembic import context

from shared.migrations import run_env

run_env(context.config.attributes["metadata"])
