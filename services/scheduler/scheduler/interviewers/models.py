from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSTZRANGE, UUID
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import Base


class Interviewer(Base):
    __tablename__ = "interviewers"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # The interviewer's bearer-token subject: how they are recognised when they call.
    subject: Mapped[str] = mapped_column(sa.Text, unique=True)
    display_name: Mapped[str] = mapped_column(sa.Text)
    time_zone: Mapped[str] = mapped_column(sa.Text)
    # Local working hours by ISO weekday: {"1": [["09:00", "12:00"], ["13:30", "18:00"]], ...}.
    working_hours: Mapped[dict[str, Any]] = mapped_column(JSONB)
    max_per_day: Mapped[int | None] = mapped_column(sa.Integer)
    max_per_week: Mapped[int | None] = mapped_column(sa.Integer)
    skills: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default="{}")
    calendar_id: Mapped[str] = mapped_column(sa.ForeignKey("calendars.id"), server_default="cn")
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}


class Pool(Base):
    """Interviewers who can stand in for each other: a panel may ask for k of a pool."""

    __tablename__ = "pools"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text, unique=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class PoolMember(Base):
    __tablename__ = "pool_members"

    pool_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("pools.id"), primary_key=True)
    interviewer_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("interviewers.id"), primary_key=True
    )


class AvailabilityOverride(Base):
    """A one-off change to an interviewer's working hours: extra time, or time off."""

    __tablename__ = "availability_overrides"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    interviewer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("interviewers.id"))
    during: Mapped[Any] = mapped_column(TSTZRANGE)
    kind: Mapped[str] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint("kind IN ('available', 'unavailable')", name="kind"),
        sa.Index(
            "ix_availability_overrides_interviewer_id_during",
            "interviewer_id",
            "during",
            postgresql_using="gist",
        ),
    )
