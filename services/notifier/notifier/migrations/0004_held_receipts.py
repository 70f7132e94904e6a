"""Receipts that overtake the send they are about are held until it is recorded.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "held_receipts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("provider_message_id", sa.Text(), nullable=False),
        sa.Column("receipt_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_receipts")),
        sa.UniqueConstraint(
            "source", "receipt_id", name=op.f("uq_held_receipts_source_receipt_id")
        ),
        schema="notifier",
    )
    op.create_index(
        "ix_held_receipts_channel_provider_message_id",
        "held_receipts",
        ["channel", "provider_message_id"],
        unique=False,
        schema="notifier",
    )
    op.create_index(
        op.f("ix_held_receipts_received_at"),
        "held_receipts",
        ["received_at"],
        unique=False,
        schema="notifier",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_held_receipts_received_at"), table_name="held_receipts", schema="notifier"
    )
    op.drop_index(
        "ix_held_receipts_channel_provider_message_id",
        table_name="held_receipts",
        schema="notifier",
    )
    op.drop_table("held_receipts", schema="notifier")
