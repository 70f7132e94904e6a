from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from talentpool.db import Base


class Job(Base):
    """The pipeline's jobs as ``job_changed`` tells them: who owns each (HR without the
    talent-pool scope see only people related to jobs they own), its title, type and state."""

    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    title: Mapped[str] = mapped_column(sa.Text)
    job_type: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text)
    owner_ids: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default="{}")
    changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.Index("ix_jobs_owner_ids", "owner_ids", postgresql_using="gin"),)


class ApplicationRecord(Base):
    """What the pool knows of one application: where it is, how far it got, and its AI
    interview's invitation (for the no-show group). ``version`` is the pipeline's sequence, so
    a stale or reordered event never moves it back."""

    __tablename__ = "applications"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    candidate_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    stage_key: Mapped[str | None] = mapped_column(sa.Text)
    stage_kind: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text, server_default="active")
    # The furthest stage reached, by the kinds' order (see profiles.stages).
    furthest_rank: Mapped[int] = mapped_column(sa.SmallInteger, server_default="0")
    furthest_stage_kind: Mapped[str | None] = mapped_column(sa.Text)
    reason_code: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    applied_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    # The AI interview: invited (by the pipeline or the scheduler), started, completed, expired.
    ai_invited_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    ai_started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    ai_completed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    ai_expired_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    ai_score: Mapped[float | None] = mapped_column(sa.Float)
