from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from notifier.db import Base


class Template(Base):
    """One saved version of the template for a (kind, channel, locale). Saving makes a new
    version; the newest active one is used, or the built-in default when there is none."""

    __tablename__ = "templates"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.Text)
    channel: Mapped[str] = mapped_column(sa.Text)
    locale: Mapped[str] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(sa.Integer)
    subject: Mapped[str | None] = mapped_column(sa.Text)
    body: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str | None] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.UniqueConstraint("kind", "channel", "locale", "version"),
        sa.CheckConstraint("locale IN ('zh-CN', 'en')", name="locale"),
        sa.CheckConstraint("channel IN ('email', 'sms', 'in_app', 'chat')", name="channel"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
    )
