from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from scheduler.invitations.models import Invitation, InvitationPolicy
from scheduler.proposals.schemas import PoolIn, _SlotRequestFields
from shared.contacts import check_time_zone

InvitationKind = Literal["live_interview", "ai_interview"]
InvitationState = Literal[
    "sent", "opened", "custom_requested", "booked", "completed", "expired", "closed", "cancelled"
]
GROUP_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"
MAX_BULK = 500

_APPLICATION = "0193a1b2-0000-7000-8000-0000000000a1"
_JOB = "0193a1b2-0000-7000-8000-0000000000b1"
_CANDIDATE = "0193a1b2-0000-7000-8000-0000000000c1"
_INVITATION = "0193a1b2-0000-7000-8000-0000000000e1"
_PROPOSAL = "0193a1b2-0000-7000-8000-0000000000d1"


class ProposalRequest(_SlotRequestFields):
    """What ``POST /v1/proposals`` takes, less the application's ids (the invitation's)."""

    pools: list[PoolIn] = Field(
        default_factory=list,
        max_length=10,
        description="k of each pool attend as well (excluding required interviewers).",
        examples=[[{"pool_id": "0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f91", "k": 1}]],
    )


# Policies


class ReminderRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="Names the reminder in `reminder_due` (the notifier picks a template by it).",
        examples=["unopened_24h"],
    )
    after_sent_hours: int | None = Field(
        default=None, ge=1, le=24 * 60, description="Hours after sending.", examples=[24]
    )
    before_deadline_hours: int | None = Field(
        default=None, ge=1, le=24 * 60, description="Hours before the deadline.", examples=[6]
    )
    only_if_unopened: bool = Field(
        default=False,
        description="Skipped when the candidate has opened the invitation by then.",
        examples=[True],
    )

    @model_validator(mode="after")
    def _one_anchor(self) -> ReminderRuleIn:
        if (self.after_sent_hours is None) == (self.before_deadline_hours is None):
            raise ValueError("give exactly one of after_sent_hours and before_deadline_hours")
        return self


class PolicyWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    live_deadline_hours: int = Field(
        ge=1, le=24 * 60, description="Hours a candidate has to pick a slot.", examples=[72]
    )
    ai_deadline_hours: int = Field(
        ge=1,
        le=24 * 60,
        description="Hours a candidate has to complete an AI interview.",
        examples=[72],
    )
    reminders: list[ReminderRuleIn] = Field(
        default_factory=list,
        max_length=10,
        examples=[
            [
                {"key": "unopened_24h", "after_sent_hours": 24, "only_if_unopened": True},
                {"key": "deadline_6h", "before_deadline_hours": 6},
            ]
        ],
    )
    makeup_hours: int | None = Field(
        default=None,
        ge=1,
        le=24 * 14,
        description="Hours of the single make-up window after the deadline; null: closed at the "
        "deadline.",
        examples=[24],
    )

    @field_validator("reminders")
    @classmethod
    def _unique_keys(cls, value: list[ReminderRuleIn]) -> list[ReminderRuleIn]:
        keys = [rule.key for rule in value]
        if len(keys) != len(set(keys)):
            raise ValueError("reminder keys must be unique")
        return value


class PolicyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    candidate_group: str = Field(examples=["campus"])
    live_deadline_hours: int = Field(examples=[48])
    ai_deadline_hours: int = Field(examples=[48])
    reminders: list[dict[str, Any]] = Field(
        examples=[[{"key": "deadline_6h", "before_deadline_hours": 6}]]
    )
    makeup_hours: int | None = Field(examples=[24])
    version: int = Field(examples=[2])
    updated_by: str = Field(examples=["admin-ann"])
    updated_at: datetime = Field(examples=["2025-03-03T09:00:00Z"])

    @classmethod
    def of(cls, policy: InvitationPolicy) -> PolicyRead:
        return cls.model_validate(policy)


# Staff: invitations


class InvitationFields(BaseModel):
    """What every invitation needs to know of its candidate."""

    model_config = ConfigDict(extra="forbid")

    application_id: uuid.UUID = Field(examples=[_APPLICATION])
    candidate_id: uuid.UUID = Field(examples=[_CANDIDATE])
    candidate_group: str = Field(
        default="default",
        pattern=GROUP_PATTERN,
        description="Chooses the invitation policy (deadlines, reminders, make-up window).",
        examples=["campus"],
    )
    candidate_time_zone: str = Field(
        default="Asia/Shanghai",
        max_length=64,
        description="The candidate's IANA time zone; slots are shown in it.",
        examples=["Asia/Shanghai"],
    )
    proposal_id: uuid.UUID | None = Field(
        default=None,
        description="Offer the suggestions of this proposal (of the same application).",
        examples=[_PROPOSAL],
    )
    proposal: ProposalRequest | None = Field(
        default=None,
        description="Or: compute a proposal now with this request and offer its suggestions.",
    )

    @field_validator("candidate_time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_time_zone(value)

    @model_validator(mode="after")
    def _one_source(self) -> InvitationFields:
        if (self.proposal_id is None) == (self.proposal is None):
            raise ValueError("give exactly one of proposal_id and proposal")
        return self


class InvitationCreate(InvitationFields):
    job_id: uuid.UUID = Field(examples=[_JOB])


class BulkInvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: uuid.UUID = Field(description="Every candidate applied to this job.", examples=[_JOB])
    candidates: list[InvitationFields] = Field(
        min_length=1,
        max_length=MAX_BULK,
        description=f"Up to {MAX_BULK}, one application each.",
        examples=[
            [
                {
                    "application_id": _APPLICATION,
                    "candidate_id": _CANDIDATE,
                    "candidate_group": "campus",
                    "candidate_time_zone": "Asia/Shanghai",
                    "proposal_id": _PROPOSAL,
                }
            ]
        ],
    )

    @field_validator("candidates")
    @classmethod
    def _one_row_per_application(cls, value: list[InvitationFields]) -> list[InvitationFields]:
        ids = [row.application_id for row in value]
        if len(ids) != len(set(ids)):
            raise ValueError("each application may appear only once")
        return value


class SlotRead(BaseModel):
    index: int = Field(description="Pick a slot by this index.", examples=[0])
    starts_at: datetime = Field(
        description="In the candidate's time zone (RFC 3339 with offset).",
        examples=["2025-03-05T10:00:00+08:00"],
    )
    ends_at: datetime = Field(examples=["2025-03-05T11:00:00+08:00"])


class InvitationRead(BaseModel):
    id: uuid.UUID = Field(examples=[_INVITATION])
    kind: InvitationKind = Field(examples=["live_interview"])
    application_id: uuid.UUID = Field(examples=[_APPLICATION])
    job_id: uuid.UUID = Field(examples=[_JOB])
    candidate_id: uuid.UUID = Field(examples=[_CANDIDATE])
    candidate_group: str = Field(examples=["campus"])
    candidate_time_zone: str = Field(examples=["Asia/Shanghai"])
    proposal_id: uuid.UUID | None = Field(examples=[_PROPOSAL])
    state: InvitationState = Field(examples=["sent"])
    deadline_at: datetime = Field(examples=["2025-03-06T09:00:00Z"])
    makeup_until: datetime | None = Field(examples=[None])
    sent_at: datetime = Field(examples=["2025-03-03T09:00:00Z"])
    opened_at: datetime | None = Field(examples=["2025-03-03T12:00:00Z"])
    responded_at: datetime | None = Field(examples=[None])
    completed_at: datetime | None = Field(examples=[None])
    expired_at: datetime | None = Field(examples=[None])
    closed_at: datetime | None = Field(examples=[None])
    custom_window: dict[str, Any] | None = Field(
        examples=[{"starts_at": "2025-03-05T02:00:00Z", "ends_at": "2025-03-05T04:00:00Z"}]
    )
    interview_id: uuid.UUID | None = Field(examples=[None])
    cancelled_by: str | None = Field(
        default=None,
        description="Who cancelled it: the staff member's subject, or `pipeline` (stage left, "
        "application rejected or withdrawn).",
        examples=[None],
    )
    cancel_reason: str | None = Field(
        default=None, description="The reason given when cancelling by hand.", examples=[None]
    )
    version: int = Field(examples=[1])
    created_by: str = Field(examples=["hr-alice"])
    created_at: datetime = Field(examples=["2025-03-03T09:00:00Z"])

    @classmethod
    def of(cls, invitation: Invitation) -> InvitationRead:
        return cls.model_validate(invitation, from_attributes=True)


class InvitationIssued(InvitationRead):
    link_token: str | None = Field(
        description="The candidate's link token (`Authorization: Bearer` on "
        "`/v1/candidate/invitation`), shown only in this answer; null in an idempotent replay "
        "(issue another with `POST /v1/invitations/{id}/link`).",
        examples=["l1nK-t0ken-shown-once"],
    )
    link_expires_at: datetime | None = Field(examples=["2025-04-07T09:00:00Z"])


RowStatus = Literal["created", "exists", "failed"]


class RowProblem(BaseModel):
    status: int = Field(examples=[422])
    title: str = Field(examples=["Unprocessable content"])
    detail: str | None = Field(examples=["No proposal with id 0193... for this application."])
    type: str = Field(examples=["urn:recruiting:problem:proposal-not-found"])


class BulkRow(BaseModel):
    application_id: uuid.UUID = Field(examples=[_APPLICATION])
    status: RowStatus = Field(
        description="created; exists (an invitation of this kind is already waiting, its id "
        "given, no new token); failed (see problem).",
        examples=["created"],
    )
    invitation_id: uuid.UUID | None = Field(examples=[_INVITATION])
    link_token: str | None = Field(
        description="Only for created rows, only in this answer.", examples=["l1nK-t0ken"]
    )
    link_expires_at: datetime | None = Field(examples=["2025-04-07T09:00:00Z"])
    problem: RowProblem | None = Field(examples=[None])


class BulkResult(BaseModel):
    job_id: uuid.UUID = Field(examples=[_JOB])
    created: int = Field(examples=[498])
    existing: int = Field(examples=[1])
    failed: int = Field(examples=[1])
    rows: list[BulkRow] = Field(description="In the order of the request.")


class InvitationCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Why, for the record (kept on the invitation, not sent to the candidate).",
        examples=["The position was filled."],
    )


class DeadlineChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deadline_at: AwareDatetime = Field(
        description="The new deadline (any offset): in the future, at most 180 days ahead.",
        examples=["2025-03-10T18:00:00+08:00"],
    )


class LinkIssued(BaseModel):
    invitation_id: uuid.UUID = Field(examples=[_INVITATION])
    link_token: str = Field(description="Shown only here.", examples=["l1nK-t0ken-shown-once"])
    link_expires_at: datetime = Field(examples=["2025-04-07T09:00:00Z"])


class Board(BaseModel):
    job_id: uuid.UUID = Field(examples=[_JOB])
    total: int = Field(examples=[500])
    sent: int = Field(description="Not opened yet.", examples=[120])
    opened: int = Field(description="Opened, no slot picked yet.", examples=[80])
    custom_requested: int = Field(description="Asked for another window.", examples=[5])
    booked: int = Field(description="Picked a slot (live interviews).", examples=[250])
    completed: int = Field(description="Completed (AI interviews).", examples=[0])
    expired: int = Field(description="Past the deadline, in the make-up window.", examples=[20])
    closed: int = Field(description="Past the deadline for good.", examples=[20])
    cancelled: int = Field(examples=[5])
    ever_opened: int = Field(
        description="Opened at least once, whatever the state.", examples=[360]
    )


# The candidate


class CandidateSlot(SlotRead):
    pass


class CandidateInvitation(BaseModel):
    invitation_id: uuid.UUID = Field(examples=[_INVITATION])
    kind: InvitationKind = Field(examples=["live_interview"])
    state: InvitationState = Field(examples=["opened"])
    job_title: str = Field(examples=["Backend engineer"])
    time_zone: str = Field(
        description="The zone every time here is shown in.", examples=["Asia/Shanghai"]
    )
    deadline_at: datetime = Field(examples=["2025-03-06T17:00:00+08:00"])
    makeup_until: datetime | None = Field(examples=[None])
    act_until: datetime = Field(
        description="Until when a slot may be picked or the AI interview completed.",
        examples=["2025-03-06T17:00:00+08:00"],
    )
    actionable: bool = Field(examples=[True])
    slots: list[CandidateSlot] = Field(
        description="The slots offered (live interviews), best first."
    )
    booked: CandidateSlot | None = Field(
        description="The slot picked, once booked.", examples=[None]
    )
    custom_window: dict[str, Any] | None = Field(examples=[None])


class Pick(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot_index: int | None = Field(
        default=None, ge=0, description="An offered slot's index.", examples=[0]
    )
    starts_at: AwareDatetime | None = Field(
        default=None,
        description="Or an offered slot's start (any offset).",
        examples=["2025-03-05T10:00:00+08:00"],
    )

    @model_validator(mode="after")
    def _one(self) -> Pick:
        if (self.slot_index is None) == (self.starts_at is None):
            raise ValueError("give exactly one of slot_index and starts_at")
        return self


class Picked(BaseModel):
    invitation_id: uuid.UUID = Field(examples=[_INVITATION])
    state: InvitationState = Field(examples=["booked"])
    interview_id: uuid.UUID = Field(examples=["0193a1b2-0000-7000-8000-0000000000f1"])
    starts_at: datetime = Field(examples=["2025-03-05T10:00:00+08:00"])
    ends_at: datetime = Field(examples=["2025-03-05T11:00:00+08:00"])


class CustomWindow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: datetime = Field(
        description="Local time in the candidate's zone (an offset, if given, is honoured).",
        examples=["2025-03-12T10:00:00"],
    )
    ends_at: datetime = Field(examples=["2025-03-12T12:00:00"])


class CustomWindowAnswer(BaseModel):
    matched: bool = Field(
        description="True: slots inside the window are free and now offered; false: the "
        "nearest alternatives are offered and HR was told.",
        examples=[True],
    )
    window: dict[str, datetime] = Field(
        examples=[
            {"starts_at": "2025-03-12T10:00:00+08:00", "ends_at": "2025-03-12T12:00:00+08:00"}
        ]
    )
    slots: list[CandidateSlot]
    state: InvitationState = Field(examples=["opened"])
