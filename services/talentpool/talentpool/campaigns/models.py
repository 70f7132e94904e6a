from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from talentpool.db import Base


class Campaign(Base):
    """A segment invited to a job: at most ``per_hour`` invitations an hour, run again every
    ``repeat_every_days`` (for new members of the segment) until ``ends_at``."""

    __tablename__ = "campaigns"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    segment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("segments.id"), index=True
    )
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(sa.Text)
    per_hour: Mapped[int] = mapped_column(sa.Integer)
    repeat_every_days: Mapped[int | None] = mapped_column(sa.Integer)
    ends_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    runs: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    next_run_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_run_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(sa.Text)
    # Whether the creator could search the whole pool (an admin, or HR with the scope); if not,
    # each run selects only people who applied to a job the creator owns.
    pool_wide: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    version: Mapped[int] = mapped_column(sa.Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint("status IN ('active', 'paused', 'finished', 'cancelled')", "status"),
        sa.CheckConstraint("per_hour > 0", name="per_hour_positive"),
    )


class CampaignRecipient(Base):
    """A person a campaign reached: waiting for the throttle, invited, or skipped (and why).
    Whether they opened the invitation and applied is the reinvitation's to say
    (``reinvitation_id``)."""

    __tablename__ = "campaign_recipients"

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("campaigns.id"), primary_key=True
    )
    profile_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("profiles.id"), primary_key=True
    )
    run: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.Text)
    skip_reason: Mapped[str | None] = mapped_column(sa.Text)
    reinvitation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    queued_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    invited_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.Index("ix_campaign_recipients_campaign_id_status", "campaign_id", "status"),
        sa.CheckConstraint("status IN ('queued', 'invited', 'skipped')", name="status"),
    )


class CandidateSubscription(Base):
    """Whether a pipeline candidate unsubscribed from every notification, as the notifier last
    told it (``changed_at`` orders its events, so a late one changes nothing). A person is
    unsubscribed (``Profile.unsubscribed_at``) while any of their candidates is."""

    __tablename__ = "candidate_subscriptions"

    candidate_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    unsubscribed_all: Mapped[bool] = mapped_column(sa.Boolean)
    changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
