from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import Base


class Job(Base):
    """The scheduler's copy of a pipeline job (from ``job_changed``): who owns it, so HR act
    only on interviews of jobs they own."""

    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    title: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text)
    owner_ids: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    # The event's occurred_at; an older event is ignored.
    changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.Index("ix_jobs_owner_ids", "owner_ids", postgresql_using="gin"),)
