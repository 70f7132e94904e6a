from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import Base


class InvitationPolicy(Base):
    """Deadlines and reminders for a group of candidates (campus, experienced, ...)."""

    __tablename__ = "invitation_policies"

    candidate_group: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    # Hours the candidate has to pick a slot / to complete an AI interview.
    live_deadline_hours: Mapped[int] = mapped_column(sa.Integer)
    ai_deadline_hours: Mapped[int] = mapped_column(sa.Integer)
    # [{"key": "unopened_24h", "after_sent_hours": 24, "only_if_unopened": true},
    #  {"key": "deadline_6h", "before_deadline_hours": 6}]
    reminders: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # Hours of a single make-up window after the deadline (None: closed at the deadline).
    makeup_hours: Mapped[int | None] = mapped_column(sa.Integer)
    version: Mapped[int] = mapped_column(sa.Integer, server_default="1")
    updated_by: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}


class Invitation(Base):
    """An ask to a candidate with a deadline: pick a live-interview slot, or complete an AI
    interview."""

    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.Text)
    application_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("jobs.id"))
    candidate_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    candidate_group: Mapped[str] = mapped_column(sa.Text)
    candidate_time_zone: Mapped[str] = mapped_column(sa.Text, server_default="Asia/Shanghai")
    # The slots offered (live): the proposal they came from.
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("proposals.id"))
    state: Mapped[str] = mapped_column(sa.Text)
    deadline_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    makeup_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    sent_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    responded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    expired_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # A window the candidate asked for instead of the offered slots: {"starts_at", "ends_at"}.
    custom_window: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    interview_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # AI interviews: the application's version (stage_changed sequence) that created or last
    # changed the invitation, so an older stage change is recognised as stale.
    application_version: Mapped[int | None] = mapped_column(sa.Integer)
    # Who cancelled it: a staff member's subject (by hand), or "pipeline" (the stage was left,
    # the application rejected or withdrawn); the reason given by hand, if any.
    cancelled_by: Mapped[str | None] = mapped_column(sa.Text)
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(sa.Integer)
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint("kind IN ('live_interview', 'ai_interview')", name="kind"),
        sa.CheckConstraint(
            "state IN ('sent', 'opened', 'custom_requested', 'booked', 'completed', 'expired', "
            "'closed', 'cancelled')",
            name="state",
        ),
        # At most one invitation per application and kind is waiting for the candidate.
        sa.Index(
            "uq_invitations_open_per_application_kind",
            "application_id",
            "kind",
            unique=True,
            postgresql_where=sa.text("state IN ('sent', 'opened', 'custom_requested', 'expired')"),
        ),
        sa.Index("ix_invitations_job_id_state", "job_id", "state"),
    )
