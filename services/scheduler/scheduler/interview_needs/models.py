from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import Base


class InterviewNeed(Base):
    """An application that has reached an interview stage and will need a slot."""

    __tablename__ = "interview_needs"

    application_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    candidate_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    stage_key: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text)
    # The application's version that last changed this row; older events are ignored.
    application_version: Mapped[int] = mapped_column(sa.Integer)
    opened_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint("status IN ('open', 'withdrawn')", name="status"),
        sa.Index("ix_interview_needs_status_opened_at", "status", "opened_at"),
    )


class ApplicationStage(Base):
    """The newest stage the scheduler has heard each application is in, whatever its kind.

    Stage changes can arrive out of order; remembering the newest version even for stages that
    need no interview is what lets an older event be recognised as stale when no need exists.
    """

    __tablename__ = "application_stages"

    application_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    stage_key: Mapped[str] = mapped_column(sa.Text)
    stage_kind: Mapped[str] = mapped_column(sa.Text)
    application_version: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
