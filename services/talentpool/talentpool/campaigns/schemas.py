from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from shared.http.schemas import RequestModel, ResponseModel

CampaignStatus = Literal["active", "paused", "finished", "cancelled"]
RecipientStatus = Literal["queued", "invited", "skipped"]

MAX_PER_HOUR = 10_000

_CAMPAIGN = "0193b0a5-9a0b-7c1d-8e2f-3a4b5c6d7e8f"
_SEGMENT = "0193b0a5-7a8b-7c9d-8e0f-1a2b3c4d5e6f"
_JOB = "0193b0a5-1c2d-7e3f-8a9b-0c1d2e3f4a5b"


class CampaignCreate(RequestModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        examples=["Autumn data analysts"]
    )
    segment_id: uuid.UUID = Field(
        description="One of your segments (admins: anyone's); each run invites the people it "
        "selects then who were not reached by an earlier run.",
        examples=[_SEGMENT],
    )
    job_id: uuid.UUID = Field(
        description="An open job you own (admins: any open job).", examples=[_JOB]
    )
    per_hour: int = Field(
        ge=1,
        le=MAX_PER_HOUR,
        description="At most this many invitations in any hour.",
        examples=[50],
    )
    repeat_every_days: int | None = Field(
        default=None,
        ge=1,
        le=365,
        description="Run again this many days after each run (for people who joined the "
        "segment since); null: run once.",
        examples=[7],
    )
    ends_at: AwareDatetime | None = Field(
        default=None,
        description="No run and no invitation from this time on; who is still waiting is "
        "skipped (`ended`). Null: until cancelled, or once everyone is invited.",
        examples=["2025-12-31T23:59:59+08:00"],
    )


class CampaignResults(ResponseModel):
    queued: int = Field(description="Waiting for the hourly limit.", examples=[120])
    invited: int = Field(description="Invitations sent (reinvitations requested).", examples=[50])
    skipped: dict[str, int] = Field(
        description="People not invited, by reason: `on_hold`, `unsubscribed`, `no_consent`, "
        "`erased`, `already_applied`, `merged`, `unknown`, and `cancelled` or `ended` for "
        "those still waiting when the campaign was cancelled or ended.",
        examples=[{"no_consent": 12, "on_hold": 3}],
    )
    opened: int = Field(description="Invited people who opened the invitation.", examples=[31])
    applied: int = Field(description="Invited people who applied.", examples=[9])


class CampaignRead(ResponseModel):
    id: uuid.UUID = Field(examples=[_CAMPAIGN])
    name: str = Field(examples=["Autumn data analysts"])
    segment_id: uuid.UUID = Field(examples=[_SEGMENT])
    job_id: uuid.UUID = Field(examples=[_JOB])
    status: CampaignStatus = Field(
        description="active, paused (nothing is sent or run until resumed), finished "
        "(everyone reached and no run left) or cancelled.",
        examples=["active"],
    )
    per_hour: int = Field(examples=[50])
    repeat_every_days: int | None = Field(examples=[7])
    ends_at: datetime | None = Field(examples=[None])
    runs: int = Field(description="How many times the segment was evaluated.", examples=[1])
    last_run_at: datetime | None = Field(examples=["2025-03-03T09:00:00Z"])
    next_run_at: datetime | None = Field(
        description="When the segment is evaluated next; null: no run left.",
        examples=["2025-03-10T09:00:00Z"],
    )
    created_by: str = Field(examples=["hr-alice"])
    version: int = Field(
        description="Send as If-Match to pause, resume or cancel the campaign.", examples=[1]
    )
    created_at: datetime
    updated_at: datetime
    results: CampaignResults


class CampaignRecipientRead(ResponseModel):
    profile_id: uuid.UUID = Field(examples=["0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"])
    run: int = Field(description="The run that found them (1 is the first).", examples=[1])
    status: RecipientStatus = Field(examples=["invited"])
    skip_reason: str | None = Field(examples=[None])
    reinvitation_id: uuid.UUID | None = Field(examples=["0193b0a5-8091-72a2-9a1b-2c3d4e5f6a7e"])
    queued_at: datetime
    invited_at: datetime | None
    opened_at: datetime | None = Field(description="From the reinvitation.", examples=[None])
    applied_at: datetime | None = Field(description="From the reinvitation.", examples=[None])
