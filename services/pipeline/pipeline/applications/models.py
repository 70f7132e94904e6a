from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.db import Base


class Application(Base):
    __tablename__ = "applications"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("jobs.id"), index=True)
    candidate_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("candidates.id"), index=True)
    stage_key: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text)
    # When the application entered its current stage: the start of its SLA clock.
    stage_entered_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    # The configured reason code of a rejection (``rejection_reasons.code``), while rejected.
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Where the application came from: api, bulk, vendor, ...
    source: Mapped[str] = mapped_column(sa.Text, server_default="api")
    # The candidate asked for a person to review an AI-based decision.
    human_review_requested_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Every stage a change has moved it into (``stage_changes.to_stage``, each once, in the order
    # first entered): the funnel counts from this instead of reading the whole history.
    reached_stages: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default="{}")
    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.UniqueConstraint("job_id", "candidate_id"),
        sa.CheckConstraint("status IN ('active', 'rejected', 'withdrawn', 'hired')", name="status"),
        sa.Index("ix_applications_job_id_stage_key", "job_id", "stage_key"),
    )


STAY_SECONDS = "date_part('epoch', occurred_at - from_stage_entered_at)"


class StageChange(Base):
    """The application's history: every move, with who, when and why."""

    __tablename__ = "stage_changes"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    # The application's job (it never changes), so the analytics read a job's stays without
    # joining every change to its application.
    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("jobs.id"))
    transition: Mapped[str] = mapped_column(sa.Text)
    from_stage: Mapped[str | None] = mapped_column(sa.Text)
    to_stage: Mapped[str] = mapped_column(sa.Text)
    # Status after the change: active, rejected, withdrawn or hired.
    status: Mapped[str] = mapped_column(sa.Text, server_default="active")
    reason_code: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    # The released result that made this change, if it came from one.
    result_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    actor_kind: Mapped[str] = mapped_column(sa.Text)
    actor_id: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(sa.Integer)
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    # The start of the stay this change ends: when the application entered ``from_stage``, or
    # was reopened in it (``applications.stage_entered_at`` just before the change). NULL when
    # the change ends no stay: a reopen, made while the application was not active.
    from_stage_entered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The length of that stay, kept by PostgreSQL (NULL when the change ends no stay).
    stay_seconds: Mapped[float | None] = mapped_column(
        sa.Double, sa.Computed(STAY_SECONDS, persisted=True)
    )
