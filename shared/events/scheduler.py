"""Events the scheduler service produces."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events.envelope import EventData

InvitationKind = Literal["live_interview", "ai_interview"]


class Slot(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    starts_at: AwareDatetime
    ends_at: AwareDatetime


class _InvitationEvent(EventData):
    invitation_id: UUID
    application_id: UUID
    job_id: UUID
    candidate_id: UUID
    kind: InvitationKind


class InvitationSentV1(_InvitationEvent):
    event_type = "scheduler.invitation_sent.v1"
    producer = "scheduler"
    summary = "A candidate was invited to pick an interview slot or complete an AI interview."

    candidate_group: str = Field(examples=["campus"])
    deadline_at: AwareDatetime
    slots: list[Slot] = Field(default_factory=list, description="Offered slots (live only).")


class InvitationOpenedV1(_InvitationEvent):
    event_type = "scheduler.invitation_opened.v1"
    producer = "scheduler"
    summary = "The candidate opened the invitation's link for the first time."

    opened_at: AwareDatetime


class CustomWindowRequestedV1(_InvitationEvent):
    event_type = "scheduler.custom_window_requested.v1"
    producer = "scheduler"
    summary = "None of the offered slots suit the candidate, who asked for another window."

    window: Slot
    matched: bool = Field(description="Whether a slot inside the window was free and offered.")


class InviteExpiredV1(_InvitationEvent):
    event_type = "scheduler.invite_expired.v1"
    producer = "scheduler"
    summary = (
        "An invitation's deadline passed without the candidate acting. With a make-up window "
        "the invitation stays open until ``makeup_until``; otherwise it is closed."
    )

    deadline_at: AwareDatetime
    makeup_until: AwareDatetime | None = None
    final: bool = Field(description="True when no make-up window follows: the invite is closed.")


class InvitationCancelledV1(_InvitationEvent):
    event_type = "scheduler.invitation_cancelled.v1"
    producer = "scheduler"
    summary = "HR withdrew a waiting invitation; its link no longer works."

    cancelled_by: Literal["hr", "admin"]
    cancelled_at: AwareDatetime


class InvitationDeadlineChangedV1(_InvitationEvent):
    event_type = "scheduler.invitation_deadline_changed.v1"
    producer = "scheduler"
    summary = "HR moved a waiting invitation's deadline; reminders follow the new one."

    deadline_at: AwareDatetime


class ReminderDueV1(EventData):
    event_type = "scheduler.reminder_due.v1"
    producer = "scheduler"
    summary = "Time to remind someone: of an invitation's deadline or of an upcoming interview."

    subject_kind: Literal["invitation", "interview"]
    subject_id: UUID
    application_id: UUID
    job_id: UUID
    candidate_id: UUID
    reminder: str = Field(
        description="Which reminder of the policy: e.g. unopened_24h, deadline_6h, before_1d, "
        "before_2h.",
        examples=["before_2h"],
    )
    recipients: list[Literal["candidate", "interviewers", "hr"]]
    due_at: AwareDatetime
    at: AwareDatetime | None = Field(
        default=None, description="The deadline or the interview's start the reminder is about."
    )
    interviewer_subjects: list[str] = Field(
        default_factory=list,
        description="For an interview: the panel's bearer-token subjects (those who have not "
        "declined), so other services can address them.",
        examples=[["iv-zhang"]],
    )


class _InterviewEvent(EventData):
    interview_id: UUID
    application_id: UUID
    job_id: UUID
    candidate_id: UUID
    calendar_uid: str | None = Field(
        default=None,
        description="The interview's iCalendar UID, the same in every .ics of it.",
        examples=["0193b0a5-7a8b-7c9d-8e0f-1a2b3c4d5e6f@recruiting"],
    )
    calendar_sequence: int | None = Field(
        default=None, ge=0, description="The .ics SEQUENCE this change was given."
    )


class InterviewProposedV1(EventData):
    event_type = "scheduler.interview_proposed.v1"
    producer = "scheduler"
    summary = "Slots were proposed for an application's interview (to HR or in an invitation)."

    proposal_id: UUID
    application_id: UUID
    job_id: UUID
    candidate_id: UUID
    interview_id: UUID | None = Field(
        default=None, description="The interview being re-staffed or moved, if any."
    )
    slots: list[Slot]


class InterviewBookedV1(_InterviewEvent):
    event_type = "scheduler.interview_booked.v1"
    producer = "scheduler"
    summary = "An interview was booked: its interviewers and room are held for the slot."

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    time_zone: str = Field(
        description="The candidate's IANA time zone.", examples=["Asia/Shanghai"]
    )
    interviewer_ids: list[UUID]
    interviewer_subjects: list[str] = Field(
        default_factory=list,
        description="The panel's bearer-token subjects, so other services can address them.",
        examples=[["iv-zhang"]],
    )
    room_id: UUID | None = None
    remote: bool = False
    rescheduled_from: Slot | None = None


class InterviewConfirmedV1(_InterviewEvent):
    event_type = "scheduler.interview_confirmed.v1"
    producer = "scheduler"
    summary = "Every interviewer of a booked interview accepted it."

    starts_at: AwareDatetime
    ends_at: AwareDatetime


class InterviewerDeclinedV1(_InterviewEvent):
    event_type = "scheduler.interviewer_declined.v1"
    producer = "scheduler"
    summary = "An interviewer declined a booked interview; the slot is freed or re-staffed."

    interviewer_id: UUID
    replaced_by: UUID | None = Field(
        default=None, description="The pool member who takes the place, if one was found."
    )


class InterviewCancelledV1(_InterviewEvent):
    event_type = "scheduler.interview_cancelled.v1"
    producer = "scheduler"
    summary = "A booked interview was cancelled; its resources are free again."

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    cancelled_by: Literal["candidate", "hr", "admin", "interviewer", "system"]
    reason: str | None = None
