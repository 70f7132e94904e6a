from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSTZRANGE, UUID
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import Base


class BusyBlock(Base):
    """Time an interviewer or a room is taken by something other than our bookings."""

    __tablename__ = "busy_blocks"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    resource_kind: Mapped[str] = mapped_column(sa.Text)
    resource_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    during: Mapped[Any] = mapped_column(TSTZRANGE)
    # api: posted one by one or in bulk; feed: expanded from an imported iCalendar feed.
    source: Mapped[str] = mapped_column(sa.Text)
    feed_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("calendar_feeds.id"))
    # The caller's own id of the block (bulk upsert key), or the iCalendar UID + occurrence.
    external_id: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint("resource_kind IN ('interviewer', 'room')", name="resource_kind"),
        sa.CheckConstraint("source IN ('api', 'feed')", name="source"),
        sa.Index(
            "ix_busy_blocks_resource_id_during", "resource_id", "during", postgresql_using="gist"
        ),
        sa.Index(
            "uq_busy_blocks_resource_id_external_id",
            "resource_id",
            "external_id",
            unique=True,
            postgresql_where=sa.text("external_id IS NOT NULL"),
        ),
    )


class CalendarFeed(Base):
    """An iCalendar feed imported for a resource; re-importing replaces its blocks."""

    __tablename__ = "calendar_feeds"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    resource_kind: Mapped[str] = mapped_column(sa.Text)
    resource_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    name: Mapped[str] = mapped_column(sa.Text)
    imported_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    blocks: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (sa.UniqueConstraint("resource_id", "name"),)
