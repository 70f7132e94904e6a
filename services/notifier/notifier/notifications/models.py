from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from notifier.db import Base

NOTIFICATION_STATUSES = ("pending", "sent", "engaged", "unread", "suppressed", "failed")


class Notification(Base):
    """A message owed to one recipient because of one event: what to say (``kind`` and the
    template variables in ``data``) and how it went overall. Its deliveries are the tries on
    each channel, the fallbacks included.

    At most one per (source event, kind, recipient): a redelivered event owes nothing new.
    """

    __tablename__ = "notifications"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.Text)
    recipient_kind: Mapped[str] = mapped_column(sa.Text)
    recipient_id: Mapped[str] = mapped_column(sa.Text)
    candidate_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    application_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(sa.Text)
    locale: Mapped[str] = mapped_column(sa.Text, server_default="zh-CN")
    urgent: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    source_event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    source_event_type: Mapped[str] = mapped_column(sa.Text, server_default="")
    reason: Mapped[str | None] = mapped_column(sa.Text)
    first_sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    engaged_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.UniqueConstraint("source_event_id", "kind", "recipient_kind", "recipient_id"),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'engaged', 'unread', 'suppressed', 'failed')",
            name="status",
        ),
        sa.CheckConstraint(
            "recipient_kind IN ('candidate', 'staff', 'interviewer', 'robot', 'endpoint')",
            name="recipient_kind",
        ),
        sa.Index("ix_notifications_recipient", "recipient_kind", "recipient_id", "created_at"),
    )
