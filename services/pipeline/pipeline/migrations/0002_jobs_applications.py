"""Jobs, candidates, applications and their stage changes.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "candidates",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidates")),
        sa.UniqueConstraint("email", name=op.f("uq_candidates_email")),
        schema="pipeline",
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("department", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("job_type", sa.Text(), nullable=False),
        sa.Column("owner_ids", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("stages", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        schema="pipeline",
    )
    op.create_index(
        "ix_jobs_owner_ids",
        "jobs",
        ["owner_ids"],
        unique=False,
        schema="pipeline",
        postgresql_using="gin",
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("candidate_id", sa.UUID(), nullable=False),
        sa.Column("stage_key", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'rejected', 'withdrawn', 'hired')",
            name=op.f("ck_applications_status"),
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["pipeline.candidates.id"],
            name=op.f("fk_applications_candidate_id_candidates"),
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["pipeline.jobs.id"], name=op.f("fk_applications_job_id_jobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint(
            "job_id", "candidate_id", name=op.f("uq_applications_job_id_candidate_id")
        ),
        schema="pipeline",
    )
    op.create_index(
        op.f("ix_applications_candidate_id"),
        "applications",
        ["candidate_id"],
        unique=False,
        schema="pipeline",
    )
    op.create_index(
        op.f("ix_applications_job_id"), "applications", ["job_id"], unique=False, schema="pipeline"
    )
    op.create_table(
        "stage_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("transition", sa.Text(), nullable=False),
        sa.Column("from_stage", sa.Text(), nullable=True),
        sa.Column("to_stage", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor_kind", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["pipeline.applications.id"],
            name=op.f("fk_stage_changes_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_changes")),
        schema="pipeline",
    )
    op.create_index(
        op.f("ix_stage_changes_application_id"),
        "stage_changes",
        ["application_id"],
        unique=False,
        schema="pipeline",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_stage_changes_application_id"), table_name="stage_changes", schema="pipeline"
    )
    op.drop_table("stage_changes", schema="pipeline")
    op.drop_index(op.f("ix_applications_job_id"), table_name="applications", schema="pipeline")
    op.drop_index(
        op.f("ix_applications_candidate_id"), table_name="applications", schema="pipeline"
    )
    op.drop_table("applications", schema="pipeline")
    op.drop_index("ix_jobs_owner_ids", table_name="jobs", schema="pipeline", postgresql_using="gin")
    op.drop_table("jobs", schema="pipeline")
    op.drop_table("candidates", schema="pipeline")
