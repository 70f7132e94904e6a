from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.db import Base


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    title: Mapped[str] = mapped_column(sa.Text)
    department: Mapped[str | None] = mapped_column(sa.Text)
    location: Mapped[str | None] = mapped_column(sa.Text)
    job_type: Mapped[str] = mapped_column(sa.Text)
    owner_ids: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    # Ordered stages: [{"key", "kind", "name_zh", "name_en", "sla_days"}].
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.Index("ix_jobs_owner_ids", "owner_ids", postgresql_using="gin"),)

    def stage(self, key: str) -> dict[str, Any] | None:
        return next((stage for stage in self.stages if stage["key"] == key), None)
