from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.db import Base


class Message(Base):
    """One message of an application's thread between the candidate and HR."""

    __tablename__ = "messages"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("applications.id"))
    sender_kind: Mapped[str] = mapped_column(sa.Text)
    sender_id: Mapped[str | None] = mapped_column(sa.Text)
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    # When the other side read it (the candidate reads HR's messages and vice versa).
    read_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint("sender_kind IN ('candidate', 'hr', 'admin', 'system')", name="sender"),
        sa.Index("ix_messages_application_id_created_at", "application_id", "created_at"),
        sa.Index(
            "ix_messages_unread",
            "application_id",
            "sender_kind",
            postgresql_where=sa.text("read_at IS NULL"),
        ),
    )
