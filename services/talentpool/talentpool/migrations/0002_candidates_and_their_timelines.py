"""Candidates and their timelines

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
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidates")),
        schema="talentpool",
    )
    op.create_table(
        "timeline_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("candidate_id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_event_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["talentpool.candidates.id"],
            name=op.f("fk_timeline_entries_candidate_id_candidates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_entries")),
        sa.UniqueConstraint("source_event_id", name=op.f("uq_timeline_entries_source_event_id")),
        schema="talentpool",
    )
    op.create_index(
        "ix_timeline_entries_candidate_id_occurred_at",
        "timeline_entries",
        ["candidate_id", "occurred_at"],
        unique=False,
        schema="talentpool",
    )


def downgrade() -> None:
    op.drop_index(
        "ix_timeline_entries_candidate_id_occurred_at",
        table_name="timeline_entries",
        schema="talentpool",
    )
    op.drop_table("timeline_entries", schema="talentpool")
    op.drop_table("candidates", schema="talentpool")
