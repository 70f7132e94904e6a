"""Columns the analytics read instead of joining the whole history: each change's job and the
length of the stay it ends, each application's stages reached.

Adding the computed ``stay_seconds`` rewrites ``stage_changes`` under an exclusive lock (about
a second per 100,000 changes); run it while the pipeline is quiet.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAY_SECONDS = "date_part('epoch', occurred_at - from_stage_entered_at)"

BACKFILL_JOBS = """
UPDATE pipeline.stage_changes AS sc
SET job_id = a.job_id
FROM pipeline.applications AS a
WHERE a.id = sc.application_id
"""

# Each stage once, in the order the application first entered it.
BACKFILL_REACHED = """
UPDATE pipeline.applications AS a
SET reached_stages = entered.stages
FROM (
    SELECT application_id, array_agg(to_stage ORDER BY first_at, to_stage) AS stages
    FROM (
        SELECT application_id, to_stage, min(occurred_at) AS first_at
        FROM pipeline.stage_changes
        GROUP BY application_id, to_stage
    ) AS firsts
    GROUP BY application_id
) AS entered
WHERE entered.application_id = a.id
"""


def upgrade() -> None:
    op.add_column(
        "applications",
        sa.Column(
            "reached_stages",
            postgresql.ARRAY(sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        schema="pipeline",
    )
    op.execute(BACKFILL_REACHED)
    op.add_column("stage_changes", sa.Column("job_id", sa.UUID(), nullable=True), schema="pipeline")
    op.execute(BACKFILL_JOBS)
    op.alter_column("stage_changes", "job_id", nullable=False, schema="pipeline")
    op.create_foreign_key(
        op.f("fk_stage_changes_job_id_jobs"),
        "stage_changes",
        "jobs",
        ["job_id"],
        ["id"],
        source_schema="pipeline",
        referent_schema="pipeline",
    )
    op.add_column(
        "stage_changes",
        sa.Column("stay_seconds", sa.Double(), sa.Computed(STAY_SECONDS, persisted=True)),
        schema="pipeline",
    )
    # A job's stays by stage, with their lengths: the time-in-stage percentiles read it
    # index-only (pipeline.analytics.models).
    op.create_index(
        "ix_stage_changes_job_id_from_stage_stay_seconds",
        "stage_changes",
        ["job_id", "from_stage", "stay_seconds"],
        unique=False,
        schema="pipeline",
        postgresql_where=sa.text("stay_seconds IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_stage_changes_job_id_from_stage_stay_seconds",
        table_name="stage_changes",
        schema="pipeline",
        postgresql_where=sa.text("stay_seconds IS NOT NULL"),
    )
    op.drop_column("stage_changes", "stay_seconds", schema="pipeline")
    op.drop_constraint(
        op.f("fk_stage_changes_job_id_jobs"), "stage_changes", schema="pipeline", type_="foreignkey"
    )
    op.drop_column("stage_changes", "job_id", schema="pipeline")
    op.drop_column("applications", "reached_stages", schema="pipeline")
