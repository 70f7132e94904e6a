from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from talentpool.db import Base


class TimelineEntry(Base):
    """One thing that happened to a candidate (by the pipeline's candidate id, so merging and
    unmerging profiles never rewrites history): invited, opened, started, completed, no-show,
    replied, a stage change... ``source`` is the service that reported it."""

    __tablename__ = "timeline_entries"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    candidate_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    application_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.Text, server_default="pipeline")
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    source_event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)

    __table_args__ = (
        sa.Index("ix_timeline_entries_candidate_id_occurred_at", "candidate_id", "occurred_at"),
    )
