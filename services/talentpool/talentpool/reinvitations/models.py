from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from talentpool.db import Base


class Reinvitation(Base):
    """A request to invite a known person (again) to a job, by a recommendation, a campaign or
    the no-show group. The pipeline (a new application) or the scheduler (a new AI-interview
    invitation on the same application) acts on its event; ``applied_at`` and ``invited_at``
    record what came of it."""

    __tablename__ = "reinvitations"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    profile_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("profiles.id"), index=True
    )
    candidate_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    application_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    origin: Mapped[str] = mapped_column(sa.Text)
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    requested_by: Mapped[str] = mapped_column(sa.Text)
    requested_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    invited_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    applied_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        # What came of it is matched by candidate and job (see reinvitations.consumers).
        sa.Index("ix_reinvitations_candidate_id_job_id", "candidate_id", "job_id"),
        sa.CheckConstraint(
            "origin IN ('recommendation', 'campaign', 'no_show_group', 'manual')", name="origin"
        ),
    )
