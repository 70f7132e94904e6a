"""Notifications owed to recipients

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
        "notifications",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("recipient_kind", sa.Text(), nullable=False),
        sa.Column("candidate_id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_event_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'queued', 'sent', 'delivered', 'failed', 'cancelled')",
            name=op.f("ck_notifications_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "source_event_id",
            "kind",
            "recipient_kind",
            name=op.f("uq_notifications_source_event_id_kind_recipient_kind"),
        ),
        schema="notifier",
    )
    op.create_index(
        op.f("ix_notifications_application_id"),
        "notifications",
        ["application_id"],
        unique=False,
        schema="notifier",
    )
    op.create_index(
        op.f("ix_notifications_candidate_id"),
        "notifications",
        ["candidate_id"],
        unique=False,
        schema="notifier",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_notifications_candidate_id"), table_name="notifications", schema="notifier"
    )
    op.drop_index(
        op.f("ix_notifications_application_id"), table_name="notifications", schema="notifier"
    )
    op.drop_table("notifications", schema="notifier")
