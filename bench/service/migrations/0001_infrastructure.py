"""Outbox, inbox, timers and idempotency keys of the bench service.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

from shared.db.infra import create_infra_tables_v1, drop_infra_tables_v1

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_infra_tables_v1("bench")


def downgrade() -> None:
    drop_infra_tables_v1("bench")
