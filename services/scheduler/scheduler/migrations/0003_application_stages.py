"""Application stages, so stale stage changes are recognised

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "application_stages",
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("stage_key", sa.Text(), nullable=False),
        sa.Column("stage_kind", sa.Text(), nullable=False),
        sa.Column("application_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_application_stages")),
        schema="scheduler",
    )


def downgrade() -> None:
    op.drop_table("application_stages", schema="scheduler")
