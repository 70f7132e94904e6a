from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import Base


class Proposal(Base):
    """Ranked slots computed for an application's interview, with the request that made them
    (so a later booking can be checked against what was offered, and re-proposed alike)."""

    __tablename__ = "proposals"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("jobs.id"))
    candidate_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    request: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # [{"starts_at", "ends_at", "interviewer_ids", "room_id", "score", "reasons"}], best first.
    suggestions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # When nothing fits: slots refused per constraint, e.g. {"room_busy": 2, "daily_cap": 4}.
    diagnostics: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
