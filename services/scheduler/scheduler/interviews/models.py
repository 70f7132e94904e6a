from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSTZRANGE, UUID, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import Base


class Interview(Base):
    __tablename__ = "interviews"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("jobs.id"))
    candidate_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("invitations.id"))
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("proposals.id"))
    state: Mapped[str] = mapped_column(sa.Text)
    starts_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    candidate_time_zone: Mapped[str] = mapped_column(sa.Text)
    room_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("rooms.id"))
    remote: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    # iCalendar: the UID stays for the interview's life; SEQUENCE grows with every change.
    ics_uid: Mapped[str] = mapped_column(sa.Text, unique=True)
    ics_sequence: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    cancelled_by: Mapped[str | None] = mapped_column(sa.Text)
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    version: Mapped[int] = mapped_column(sa.Integer)
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            "state IN ('booked', 'confirmed', 'cancelled', 'completed')", name="state"
        ),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.Index("ix_interviews_job_id_starts_at", "job_id", "starts_at"),
        # A proposal is booked at most once while that interview stands.
        sa.Index(
            "uq_interviews_active_proposal",
            "proposal_id",
            unique=True,
            postgresql_where=sa.text("state IN ('booked', 'confirmed')"),
        ),
    )


class InterviewParticipant(Base):
    __tablename__ = "interview_participants"

    interview_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("interviews.id"), primary_key=True
    )
    interviewer_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("interviewers.id"), primary_key=True
    )
    # The pool the interviewer was drawn from (None: named in the request), so a decline can
    # be re-staffed from the same pool.
    pool_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("pools.id"))
    response: Mapped[str] = mapped_column(sa.Text, server_default="pending")
    responded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.CheckConstraint(
            "response IN ('pending', 'accepted', 'declined', 'replaced')", name="response"
        ),
        sa.Index("ix_interview_participants_interviewer_id", "interviewer_id"),
    )


class Booking(Base):
    """One resource (an interviewer or the room) held for an interview's slot (buffers included).

    The exclusion constraint makes two active bookings of one resource over overlapping time
    impossible to commit, whatever the application does.
    """

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    interview_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("interviews.id"), index=True)
    resource_kind: Mapped[str] = mapped_column(sa.Text)
    resource_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    during: Mapped[Any] = mapped_column(TSTZRANGE)
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())

    __table_args__ = (
        sa.CheckConstraint("resource_kind IN ('interviewer', 'room')", name="resource_kind"),
        ExcludeConstraint(
            (sa.column("resource_id"), "="),
            (sa.column("during"), "&&"),
            name="ex_bookings_no_overlap",
            using="gist",
            where=sa.text("active"),
        ),
    )
