from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.events.talentpool import ReinvitationOrigin
from shared.http.schemas import RequestModel, ResponseModel
from talentpool.reinvitations.service import RefusalReason

MAX_PROFILES = 500

_PROFILE = "0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"
_CANDIDATE = "0193b0a5-6e7f-7080-9a1b-2c3d4e5f6a7c"
_JOB = "0193b0a5-7f80-7191-9a1b-2c3d4e5f6a7d"


class ReinvitationsCreate(RequestModel):
    profile_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=MAX_PROFILES,
        description=f"The people to invite, 1 to {MAX_PROFILES}; a repeated id counts once.",
        examples=[[_PROFILE]],
    )
    origin: Literal["recommendation", "manual"] = Field(
        default="manual",
        description="Where HR found them: the job's recommendations, or by hand.",
        examples=["recommendation"],
    )


class ReinvitationRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193b0a5-8091-72a2-9a1b-2c3d4e5f6a7e"])
    profile_id: uuid.UUID = Field(examples=[_PROFILE])
    candidate_id: uuid.UUID = Field(
        description="The pipeline's candidate the invitation goes to.", examples=[_CANDIDATE]
    )
    job_id: uuid.UUID = Field(examples=[_JOB])
    application_id: uuid.UUID | None = Field(
        description="Set for the no-show group: a new AI-interview invitation on this "
        "application; null: a new application to the job.",
        examples=[None],
    )
    origin: ReinvitationOrigin = Field(examples=["recommendation"])
    campaign_id: uuid.UUID | None = Field(examples=[None])
    requested_by: str = Field(examples=["hr-alice"])
    requested_at: datetime = Field(examples=["2025-03-03T09:00:00Z"])
    invited_at: datetime | None = Field(
        description="When the invitation was sent (scheduler or AI-interview vendor).",
        examples=["2025-03-03T09:00:02Z"],
    )
    opened_at: datetime | None = Field(
        description="When the person first opened it.", examples=[None]
    )
    applied_at: datetime | None = Field(
        description="When the new application was created.", examples=["2025-03-03T09:00:01Z"]
    )


class RefusalRead(ResponseModel):
    profile_id: uuid.UUID = Field(examples=[_PROFILE])
    reason: RefusalReason = Field(
        description="erased (anonymized), merged (invite `merged_into` instead), on_hold, "
        "unsubscribed, no_consent (no granted, unexpired re_engagement consent), "
        "already_applied (to this job), unknown (no such person, or not in the group).",
        examples=["on_hold"],
    )
    merged_into: uuid.UUID | None = Field(
        default=None, description="For `merged`: the surviving profile.", examples=[None]
    )


class ReinvitationsRead(ResponseModel):
    reinvitations: list[ReinvitationRead] = Field(
        description="One per person invited; their invitations follow through events."
    )
    refusals: list[RefusalRead] = Field(description="Who was not invited, and why.")
