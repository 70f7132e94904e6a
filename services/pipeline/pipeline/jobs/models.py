from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
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
    # Selects the result-release policy (``release_policies.job_type``).
    job_type: Mapped[str] = mapped_column(sa.Text)
    owner_ids: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    # The job's own copy of its stages: [{"key", "kind", "name_zh", "name_en", "sla_days",
    # "notify_candidate"}], taken from a template version or given inline.
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    template_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("stage_templates.id"))
    template_version: Mapped[int | None] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.Text, server_default="open")
    # A completed AI interview moves the application on when its score reaches this (None: never).
    ai_advance_min_score: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    # An AI score alone may reject a candidate only where the job explicitly allows it.
    ai_reject_below_score: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    version: Mapped[int] = mapped_column(sa.Integer, server_default="1")
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.Index("ix_jobs_owner_ids", "owner_ids", postgresql_using="gin"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="status"),
    )

    def stage(self, key: str) -> dict[str, Any] | None:
        return next((stage for stage in self.stages if stage["key"] == key), None)
