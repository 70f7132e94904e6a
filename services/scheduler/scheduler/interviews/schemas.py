from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from shared.http.schemas import RequestModel, ResponseModel

InterviewState = Literal["booked", "confirmed", "cancelled", "completed"]
ParticipantResponse = Literal["pending", "accepted", "declined", "replaced"]

_EXAMPLE_START = "2026-03-10T02:00:00Z"
_EXAMPLE_END = "2026-03-10T03:00:00Z"
_EXAMPLE_INTERVIEWER = "0195c0a1-7d1e-7b3a-9a51-3f0c2f1e9a10"
_EXAMPLE_ROOM = "0195c0a1-7d1e-7b3a-9a51-3f0c2f1e9b20"


class SlotChoice(RequestModel):
    """A slot named by its times. Without ``interviewer_ids`` it must be one of the proposal's
    suggestions (its resources are taken from there); with them it is a slot of one's own
    (HR only), remote when ``room_id`` is null."""

    starts_at: AwareDatetime = Field(examples=[_EXAMPLE_START])
    ends_at: AwareDatetime = Field(examples=[_EXAMPLE_END])
    interviewer_ids: list[uuid.UUID] | None = Field(
        default=None, min_length=1, max_length=20, examples=[[_EXAMPLE_INTERVIEWER]]
    )
    room_id: uuid.UUID | None = Field(
        default=None, description="Null for a remote interview.", examples=[_EXAMPLE_ROOM]
    )

    @model_validator(mode="after")
    def _check(self) -> SlotChoice:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.ends_at - self.starts_at).total_seconds() > 8 * 3600:
            raise ValueError("an interview lasts at most 8 hours")
        if self.interviewer_ids is not None and len(set(self.interviewer_ids)) != len(
            self.interviewer_ids
        ):
            raise ValueError("interviewer_ids must not repeat")
        if self.interviewer_ids is None and self.room_id is not None:
            raise ValueError("room_id needs interviewer_ids (a slot of your own)")
        return self


class BookingCreate(RequestModel):
    """Exactly one of ``slot_index`` (a suggestion of the proposal) and ``slot``."""

    slot_index: int | None = Field(
        default=None, ge=0, le=100, description="0 is the best suggestion.", examples=[0]
    )
    slot: SlotChoice | None = Field(
        default=None,
        description="A slot by its times (a suggestion's), or of your own with interviewers.",
        examples=[
            {
                "starts_at": _EXAMPLE_START,
                "ends_at": _EXAMPLE_END,
                "interviewer_ids": [_EXAMPLE_INTERVIEWER],
                "room_id": _EXAMPLE_ROOM,
            }
        ],
    )

    @model_validator(mode="after")
    def _one_of(self) -> BookingCreate:
        if (self.slot_index is None) == (self.slot is None):
            raise ValueError("give exactly one of slot_index and slot")
        return self


class RescheduleRequest(BookingCreate):
    proposal_id: uuid.UUID | None = Field(
        default=None,
        description="The proposal to pick from; by default the one the interview was booked "
        "from (a 409 slot-taken answer names a fresh one).",
        examples=["0195c0a1-7d1e-7b3a-9a51-3f0c2f1e9c30"],
    )
    reason: str | None = Field(
        default=None, max_length=500, examples=["The candidate has an exam that morning."]
    )


class CandidateReschedule(RequestModel):
    proposal_id: uuid.UUID | None = Field(
        default=None,
        description="The proposal to pick from (by default the interview's own).",
        examples=["0195c0a1-7d1e-7b3a-9a51-3f0c2f1e9c30"],
    )
    slot_index: int = Field(ge=0, le=100, examples=[1])
    reason: str | None = Field(default=None, max_length=500, examples=["Travelling that day."])


class CancelRequest(RequestModel):
    reason: str = Field(min_length=1, max_length=500, examples=["The position was filled."])


class DeclineRequest(RequestModel):
    comment: str | None = Field(default=None, max_length=500, examples=["On leave that week."])


class AcceptRequest(RequestModel):
    comment: str | None = Field(default=None, max_length=500, examples=["See you there."])


class ParticipantRead(ResponseModel):
    interviewer_id: uuid.UUID = Field(examples=[_EXAMPLE_INTERVIEWER])
    pool_id: uuid.UUID | None = Field(
        default=None, description="The pool they were drawn from, if any.", examples=[None]
    )
    response: ParticipantResponse = Field(examples=["accepted"])
    responded_at: datetime | None = Field(default=None, examples=["2026-03-05T08:00:00Z"])


class InterviewRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0195c0a1-7d1e-7b3a-9a51-3f0c2f1e9d40"])
    application_id: uuid.UUID = Field(examples=["0195c0a1-7d1e-7b3a-9a51-3f0c2f1e9e50"])
    job_id: uuid.UUID = Field(examples=["0195c0a1-7d1e-7b3a-9a51-3f0c2f1e9f60"])
    candidate_id: uuid.UUID = Field(examples=["0195c0a1-7d1e-7b3a-9a51-3f0c2f1e9070"])
    invitation_id: uuid.UUID | None = Field(examples=[None])
    proposal_id: uuid.UUID | None = Field(examples=["0195c0a1-7d1e-7b3a-9a51-3f0c2f1e9c30"])
    state: InterviewState = Field(examples=["booked"])
    starts_at: datetime = Field(examples=[_EXAMPLE_START])
    ends_at: datetime = Field(examples=[_EXAMPLE_END])
    candidate_time_zone: str = Field(examples=["Asia/Shanghai"])
    room_id: uuid.UUID | None = Field(examples=[_EXAMPLE_ROOM])
    remote: bool = Field(examples=[False])
    ics_uid: str = Field(examples=["0195c0a1-7d1e-7b3a-9a51-3f0c2f1e9d40@recruiting-scheduler"])
    ics_sequence: int = Field(examples=[0])
    cancelled_by: str | None = Field(examples=[None])
    cancel_reason: str | None = Field(examples=[None])
    cancelled_at: datetime | None = Field(examples=[None])
    version: int = Field(examples=[1])
    created_at: datetime = Field(examples=["2026-03-05T07:00:00Z"])
    updated_at: datetime = Field(examples=["2026-03-05T07:00:00Z"])
    participants: list[ParticipantRead] = Field(
        examples=[
            [
                {
                    "interviewer_id": _EXAMPLE_INTERVIEWER,
                    "pool_id": None,
                    "response": "accepted",
                    "responded_at": "2026-03-05T08:00:00Z",
                }
            ]
        ]
    )


class CandidateInterviewRead(ResponseModel):
    """What the candidate sees of their interview: when and where, not who."""

    id: uuid.UUID = Field(examples=["0195c0a1-7d1e-7b3a-9a51-3f0c2f1e9d40"])
    state: InterviewState = Field(examples=["booked"])
    starts_at: datetime = Field(examples=[_EXAMPLE_START])
    ends_at: datetime = Field(examples=[_EXAMPLE_END])
    time_zone: str = Field(examples=["Asia/Shanghai"])
    local_start: str = Field(
        description="The start on the candidate's wall clock, with its offset.",
        examples=["2026-03-10T10:00:00+08:00"],
    )
    remote: bool = Field(examples=[False])
    location: str | None = Field(examples=["Shanghai HQ, 3F: Room Lotus"])
    interviewers: int = Field(description="How many interviewers take part.", examples=[2])
    proposal_id: uuid.UUID | None = Field(examples=["0195c0a1-7d1e-7b3a-9a51-3f0c2f1e9c30"])
    cancel_reason: str | None = Field(examples=[None])
