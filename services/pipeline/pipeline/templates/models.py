from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.db import Base


class StageTemplate(Base):
    """A reusable, versioned list of stages. Editing one adds a version; jobs keep the stages of
    the version they were created from, so applications under way are never affected."""

    __tablename__ = "stage_templates"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str | None] = mapped_column(sa.Text)
    latest_version: Mapped[int] = mapped_column(sa.Integer)
    archived_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class StageTemplateVersion(Base):
    __tablename__ = "stage_template_versions"

    template_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("stage_templates.id"), primary_key=True
    )
    version: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    # Ordered stages: [{"key", "kind", "name_zh", "name_en", "sla_days", "notify_candidate"}].
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
