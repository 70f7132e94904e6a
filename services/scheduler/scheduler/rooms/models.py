from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import Base


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    location: Mapped[str] = mapped_column(sa.Text)
    capacity: Mapped[int] = mapped_column(sa.Integer)
    equipment: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default="{}")
    time_zone: Mapped[str] = mapped_column(sa.Text)
    calendar_id: Mapped[str] = mapped_column(sa.ForeignKey("calendars.id"), server_default="cn")
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.UniqueConstraint("location", "name"),
        sa.CheckConstraint("capacity > 0", name="capacity"),
    )
