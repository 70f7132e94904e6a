"""What a merge carried into the profile it joined, so an unmerge can take it back

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


def upgrade() -> None:
    # Merges made before this revision carried something unrecorded: an unmerge of one of them
    # takes nothing back, as before.
    op.add_column(
        "profile_merges",
        sa.Column(
            "carried",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        schema="talentpool",
    )


def downgrade() -> None:
    op.drop_column("profile_merges", "carried", schema="talentpool")
