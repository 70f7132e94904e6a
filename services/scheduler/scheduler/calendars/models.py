from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import Base


class HolidayCalendar(Base):
    """A holiday calendar: China's (with make-up workdays, built in) or a custom one; either may
    have its own days on top."""

    __tablename__ = "calendars"

    id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    # cn: China's State Council calendar underneath; custom: only weekends and the listed days.
    base: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.CheckConstraint("base IN ('cn', 'custom')", name="base"),)


class HolidayCalendarDay(Base):
    __tablename__ = "calendar_days"

    calendar_id: Mapped[str] = mapped_column(sa.ForeignKey("calendars.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.Text)
    name: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (sa.CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),)
