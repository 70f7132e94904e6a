"""Interview needs

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "interview_needs",
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("candidate_id", sa.UUID(), nullable=False),
        sa.Column("stage_key", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("application_version", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'withdrawn')", name=op.f("ck_interview_needs_status")
        ),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_interview_needs")),
        schema="scheduler",
    )
    op.create_index(
        op.f("ix_interview_needs_job_id"),
        "interview_needs",
        ["job_id"],
        unique=False,
        schema="scheduler",
    )
    op.create_index(
        "ix_interview_needs_status_opened_at",
        "interview_needs",
        ["status", "opened_at"],
        unique=False,
        schema="scheduler",
    )


def downgrade() -> None:
    op.drop_index(
        "ix_interview_needs_status_opened_at", table_name="interview_needs", schema="scheduler"
    )
    op.drop_index(
        op.f("ix_interview_needs_job_id"), table_name="interview_needs", schema="scheduler"
    )
    op.drop_table("interview_needs", schema="scheduler")
