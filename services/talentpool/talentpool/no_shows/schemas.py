from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from shared.http.schemas import RequestModel, ResponseModel
from talentpool.reinvitations.schemas import MAX_PROFILES, RefusalRead, ReinvitationRead

_PROFILE = "0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"


class NoShowRead(ResponseModel):
    application_id: uuid.UUID = Field(examples=["0193b0a5-6e7f-7080-9a1b-2c3d4e5f6a70"])
    candidate_id: uuid.UUID = Field(examples=["0193b0a5-6e7f-7080-9a1b-2c3d4e5f6a7c"])
    profile_id: uuid.UUID = Field(examples=[_PROFILE])
    status: str = Field(
        description="The application's status: active, rejected, withdrawn, hired.",
        examples=["active"],
    )
    stage_key: str | None = Field(examples=["ai_interview"])
    invited_at: datetime = Field(
        description="When the AI interview was invited.", examples=["2025-03-03T09:00:00Z"]
    )
    opened: bool = Field(
        description="Whether they ever opened the AI-interview invitation.", examples=[True]
    )
    opened_at: datetime | None = Field(examples=["2025-03-03T12:30:00Z"])
    started_at: datetime | None = Field(
        description="When they started the interview (and left it unfinished).", examples=[None]
    )
    expired_at: datetime | None = Field(
        description="When the invitation expired; null while it is still open.",
        examples=["2025-03-05T09:00:00Z"],
    )
    reminders: int = Field(
        description="Reminders about the application with a receipt on their timeline "
        "(delivered or bounced notifications of a `*_reminder` kind).",
        examples=[2],
    )
    notifications: int = Field(
        description="Notifications about the application with a receipt on their timeline "
        "(delivered or bounced), reminders included.",
        examples=[3],
    )
    history: dict[str, int] = Field(
        description="Their timeline entries about the application, counted by kind.",
        examples=[{"applied": 1, "invited": 2, "opened": 1, "delivered": 3, "expired": 2}],
    )
    tags: list[str] = Field(description="Tags in force.", examples=[["no_show"]])
    reinvited_at: datetime | None = Field(
        description="When they were last re-invited to this application, if ever.",
        examples=[None],
    )


class NoShowPage(ResponseModel):
    count: int = Field(description="How many people the group holds.", examples=[72])
    items: list[NoShowRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class NoShowAction(RequestModel):
    """Either `profile_ids` (people of the group) or `all: true` (everyone in the group of the
    window given here)."""

    action: Literal["reinvite", "set_aside"] = Field(
        description="reinvite: a new AI-interview invitation on their application; "
        "set_aside: tag them set_aside (and on_hold until `until`, if given).",
        examples=["reinvite"],
    )
    profile_ids: list[uuid.UUID] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PROFILES,
        description=f"1 to {MAX_PROFILES} people of the group.",
        examples=[[_PROFILE]],
    )
    all: bool = Field(
        default=False, description="Everyone in the group (of the window below).", examples=[False]
    )
    invited_from: AwareDatetime | None = Field(
        default=None, description="The group's window, as for the list.", examples=[None]
    )
    invited_to: AwareDatetime | None = Field(default=None, examples=[None])
    expired_only: bool = Field(default=False, examples=[False])
    until: AwareDatetime | None = Field(
        default=None,
        description="set_aside only: also on hold (nobody contacts them) until then.",
        examples=["2025-06-01T00:00:00Z"],
    )


class NoShowActionRead(ResponseModel):
    action: Literal["reinvite", "set_aside"] = Field(examples=["reinvite"])
    reinvitations: list[ReinvitationRead] = Field(description="reinvite: one per person.")
    refusals: list[RefusalRead] = Field(
        description="Who was left out, and why (`unknown`: not in the group)."
    )
    set_aside: list[uuid.UUID] = Field(
        description="set_aside: the people tagged.", examples=[[_PROFILE]]
    )
    until: datetime | None = Field(default=None, examples=[None])
