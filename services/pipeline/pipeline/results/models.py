from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.db import Base


class Result(Base):
    """A decision about an application (advance, move, reject, hire) that the candidate is told
    only when it is released; released, it is applied as a stage change."""

    __tablename__ = "results"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    stage_key: Mapped[str] = mapped_column(sa.Text)
    decision: Mapped[str] = mapped_column(sa.Text)
    to_stage: Mapped[str | None] = mapped_column(sa.Text)
    reason_code: Mapped[str | None] = mapped_column(sa.Text)
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    dimension_scores: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    internal_note: Mapped[str | None] = mapped_column(sa.Text)
    candidate_message: Mapped[str | None] = mapped_column(sa.Text)
    policy_mode: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.Text)
    release_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    expected_by: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    released_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint("decision IN ('advance', 'move', 'reject', 'hire')", name="decision"),
        sa.CheckConstraint(
            "state IN ('pending_approval', 'scheduled', 'released', 'declined', 'cancelled')",
            name="state",
        ),
        # At most one result per application is on its way to the candidate.
        sa.Index(
            "uq_results_open_per_application",
            "application_id",
            unique=True,
            postgresql_where=sa.text("state IN ('pending_approval', 'scheduled')"),
        ),
    )


class ApprovalStep(Base):
    """One approver's turn in a result's chain; only the lowest waiting position is pending."""

    __tablename__ = "approval_steps"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    result_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("results.id"))
    position: Mapped[int] = mapped_column(sa.Integer)
    approver_id: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.Text)
    due_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    escalated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.UniqueConstraint("result_id", "position"),
        sa.CheckConstraint(
            "state IN ('waiting', 'pending', 'approved', 'declined', 'skipped')", name="state"
        ),
        sa.Index("ix_approval_steps_approver_id_state", "approver_id", "state"),
    )
