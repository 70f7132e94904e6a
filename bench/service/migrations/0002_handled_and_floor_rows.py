"""Handled ticks (the consumer's effect) and the rows of the HTTP floor app.

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
        "handled",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("run", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("handled_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_handled")),
        schema="bench",
    )
    op.create_table(
        "floor_rows",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_floor_rows")),
        schema="bench",
    )


def downgrade() -> None:
    op.drop_table("floor_rows", schema="bench")
    op.drop_table("handled", schema="bench")
