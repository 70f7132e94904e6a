from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.db import Base


class AiInterview(Base):
    """An application's AI interview at one vendor, as the vendor's webhooks reported it.

    Each status has its own timestamp, so deliveries arriving out of order still end in the
    furthest state reached (``status`` is derived from the timestamps set).
    """

    __tablename__ = "ai_interviews"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("applications.id"))
    vendor: Mapped[str] = mapped_column(sa.Text)
    external_id: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text)
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    dimension_scores: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    report_url: Mapped[str | None] = mapped_column(sa.Text)
    # Which delivery the score, dimension scores and report URL came from (its status and time),
    # so a stale delivery never overwrites a later or further one.
    result_source: Mapped[str | None] = mapped_column(sa.Text)
    result_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    invited_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    expired_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    report_ready_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Bumped by every delivery that changed something; the ``sequence`` of its events.
    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.UniqueConstraint("application_id", "vendor"),
        sa.CheckConstraint(
            "status IN ('invited', 'opened', 'started', 'completed', 'expired', 'report_ready')",
            name="status",
        ),
        sa.CheckConstraint("result_source IN ('completed', 'report_ready')", name="result_source"),
    )


class UnmatchedDelivery(Base):
    """A verified vendor delivery naming an application we do not know, kept for reconciliation."""

    __tablename__ = "unmatched_deliveries"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    vendor: Mapped[str] = mapped_column(sa.Text)
    webhook_id: Mapped[str] = mapped_column(sa.Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    reason: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # dismissed (an admin closed it), replayed (applied once the application existed) or
    # already_delivered (the vendor's own retry got through first).
    resolution: Mapped[str | None] = mapped_column(sa.Text)
    resolved_by: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.UniqueConstraint("vendor", "webhook_id"),
        sa.CheckConstraint(
            "reason IN ('unknown_application', 'interview_mismatch')", name="reason"
        ),
        sa.CheckConstraint(
            "resolution IN ('dismissed', 'replayed', 'already_delivered')", name="resolution"
        ),
        sa.Index(
            "ix_unmatched_deliveries_open", "id", postgresql_where=sa.text("resolved_at IS NULL")
        ),
    )
