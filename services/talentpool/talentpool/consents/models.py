from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from talentpool.db import Base

PURPOSES = ("talent_pool", "re_engagement")
SOURCES = ("application_form", "email", "phone_call", "portal", "in_person", "other")


class Consent(Base):
    """A person's answer for one purpose (``talent_pool``: being kept in the pool after their
    applications end; ``re_engagement``: being invited to other jobs), with where it came from
    and until when it holds."""

    __tablename__ = "consents"

    profile_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("profiles.id"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    granted: Mapped[bool] = mapped_column(sa.Boolean)
    source: Mapped[str] = mapped_column(sa.Text)
    recorded_by: Mapped[str | None] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint("purpose IN ('talent_pool', 're_engagement')", name="purpose"),
    )


class ConsentChange(Base):
    """Every answer ever recorded, oldest first: the proof of what the person agreed to, when,
    through which channel and who wrote it down."""

    __tablename__ = "consent_changes"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    profile_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), sa.ForeignKey("profiles.id"))
    purpose: Mapped[str] = mapped_column(sa.Text)
    granted: Mapped[bool] = mapped_column(sa.Boolean)
    source: Mapped[str] = mapped_column(sa.Text)
    recorded_by: Mapped[str | None] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.Index("ix_consent_changes_profile_id_id", "profile_id", "id"),
        sa.CheckConstraint("purpose IN ('talent_pool', 're_engagement')", name="purpose"),
    )
