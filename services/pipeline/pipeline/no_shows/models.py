from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.db import Base


class NoShow(Base):
    """A candidate who did not turn up after agreeing to an interview or accepting an offer."""

    __tablename__ = "no_shows"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    stage_key: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.Text)
    # The release policy of the job when it happened, so analytics compare policies over time.
    policy_mode: Mapped[str] = mapped_column(sa.Text)
    recorded_by: Mapped[str | None] = mapped_column(sa.Text)
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint("kind IN ('interview', 'offer', 'ai_interview')", name="kind"),
        sa.UniqueConstraint("application_id", "stage_key", "kind"),
    )
