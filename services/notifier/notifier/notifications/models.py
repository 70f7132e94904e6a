from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from notifier.db import Base


class Notification(Base):
    """A message owed to someone, from the event that called for it."""

    __tablename__ = "notifications"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.Text)
    recipient_kind: Mapped[str] = mapped_column(sa.Text)
    candidate_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    application_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    status: Mapped[str] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    source_event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.UniqueConstraint("source_event_id", "kind", "recipient_kind"),
        sa.CheckConstraint(
            "status IN ('pending', 'queued', 'sent', 'delivered', 'failed', 'cancelled')",
            name="status",
        ),
    )
