from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.http.schemas import RequestModel, ResponseModel

Locale = Literal["zh-CN", "en"]
Skill = Annotated[str, StringConstraints(min_length=1, max_length=80)]

_PROFILE_ID = "0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"
_OTHER_ID = "0193b0a5-6e7f-7a81-8b2c-3d4e5f6a7b8c"
_CANDIDATE_ID = "0193b0a5-7f80-7b92-9c3d-4e5f6a7b8c9d"


class EngagementRead(ResponseModel):
    """The engagement score and its parts (each 0-1, null when there is nothing to judge by
    yet), as of now; see docs/talentpool/profiles.md for the formula."""

    score: int = Field(ge=0, le=100, examples=[72])
    response_rate: float | None = Field(
        description="Invitations responded to, out of those received.", examples=[0.8]
    )
    response_speed: float | None = Field(
        description="1.0 when the first response came within an hour, 0.0 at a week.",
        examples=[0.73],
    )
    completion: float | None = Field(
        description="Invitations seen through (AI interview taken, interview booked).",
        examples=[0.6],
    )
    recency: float = Field(
        description="1.0 when last active today, 0.0 at 180 days.", examples=[0.95]
    )
    invited: int = Field(examples=[5])
    responded: int = Field(examples=[4])
    completed: int = Field(examples=[3])
    no_shows: int = Field(examples=[1])
    mean_response_seconds: int | None = Field(examples=[14400])


class ProfileSummary(ResponseModel):
    id: uuid.UUID = Field(examples=[_PROFILE_ID])
    full_name: str | None = Field(
        description="From the pipeline, once the profile's contacts were read.",
        examples=["韩梅梅"],
    )
    email: str | None = Field(examples=["han.meimei@example.com"])
    phone: str | None = Field(examples=["+8613812345678"])
    locale: str | None = Field(examples=["zh-CN"])
    location: str | None = Field(examples=["上海"])
    skills: list[str] = Field(examples=[["python", "postgresql"]])
    tags: list[str] = Field(examples=[["runner_up"]])
    engagement_score: int = Field(
        description="The stored score (what segments filter on), refreshed when the counters "
        "change.",
        examples=[72],
    )
    furthest_stage_kind: str | None = Field(
        description="The furthest stage kind any application reached.", examples=["interview"]
    )
    furthest_rank: int = Field(
        description="Its rank: 0 none, 1 ai_interview, 2 evaluation (and kinds not listed), "
        "3 interview, 4 background_check, 5 offer, 6 hired.",
        examples=[3],
    )
    first_seen_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])
    last_activity_at: datetime = Field(
        description="When the person last did something themselves (applied, opened, replied, "
        "booked...).",
        examples=["2026-03-05T14:30:00Z"],
    )
    on_hold_until: datetime | None = Field(
        description="Nobody contacts them before then (the on_hold tag).",
        examples=["2026-06-01T00:00:00Z"],
    )
    merged_into: uuid.UUID | None = Field(
        description="Set when this profile was merged into another: follow it.", examples=[None]
    )
    anonymized_at: datetime | None = Field(examples=[None])


class ProfileRead(ProfileSummary):
    resume_text: str | None = Field(examples=["五年 Python 后端开发经验, PostgreSQL, Kafka"])
    candidate_ids: list[uuid.UUID] = Field(
        description="The pipeline's candidate ids of this person (one per time they were "
        "added to the pipeline under other contact data).",
        examples=[[_CANDIDATE_ID]],
    )
    engagement: EngagementRead
    unsubscribed_at: datetime | None = Field(examples=[None])
    contacts_checked_at: datetime | None = Field(
        description="When the pipeline's contact data was last read (null: not yet, so name, "
        "email and phone are not known yet).",
        examples=["2026-03-02T09:00:02Z"],
    )
    version: int = Field(
        description="Send it back in If-Match to change the profile.", examples=[3]
    )
    created_at: datetime = Field(examples=["2026-03-02T09:00:01Z"])
    updated_at: datetime = Field(examples=["2026-03-05T14:30:01Z"])


class ProfileChange(RequestModel):
    """What HR keep about a person; only the fields sent change (null clears one)."""

    skills: list[Skill] | None = Field(
        default=None,
        max_length=100,
        description="Stored case-folded, each once.",
        examples=[["Python", "PostgreSQL"]],
    )
    location: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, examples=["上海"]
    )
    locale: Locale | None = Field(default=None, examples=["zh-CN"])
    resume_text: Annotated[str, StringConstraints(max_length=100_000)] | None = Field(
        default=None,
        description="Stored encrypted; its words (and Chinese character pairs) become keyed "
        "search tokens.",
        examples=["五年 Python 后端开发经验, PostgreSQL, Kafka"],
    )


class NoteCreate(RequestModel):
    body: Annotated[str, StringConstraints(min_length=1, max_length=10_000)] = Field(
        description="Stored encrypted; searchable like the resume.",
        examples=["沟通能力强, 希望明年春天再联系"],
    )


class NoteRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193b0a5-c4d5-7ee7-9f81-2a3b4c5d6e7f"])
    profile_id: uuid.UUID = Field(
        description="The profile it was written on (one merged into this one, perhaps).",
        examples=[_PROFILE_ID],
    )
    author_id: str = Field(examples=["hr-alice"])
    body: str | None = Field(examples=["沟通能力强, 希望明年春天再联系"])
    created_at: datetime = Field(examples=["2026-03-05T15:00:00Z"])


class MergeCreate(RequestModel):
    other_profile_id: uuid.UUID = Field(
        description="The profile to merge into this one (it must be live and visible to you).",
        examples=[_OTHER_ID],
    )


class UnmergeCreate(RequestModel):
    merge_id: uuid.UUID = Field(
        description="The merge into this profile to undo.",
        examples=["0193b0a5-8091-7ca3-8d4e-5f6a7b8c9dae"],
    )


class MergeRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193b0a5-8091-7ca3-8d4e-5f6a7b8c9dae"])
    into_profile_id: uuid.UUID = Field(examples=[_PROFILE_ID])
    from_profile_id: uuid.UUID = Field(examples=[_OTHER_ID])
    candidate_ids: list[uuid.UUID] = Field(
        description="The candidates the merge moved.", examples=[[_CANDIDATE_ID]]
    )
    matched_by: Literal["hr", "email", "phone"] = Field(
        description="hr: merged by hand; email or phone: matched by its blind index.",
        examples=["email"],
    )
    merged_by: str | None = Field(description="Who merged (null: the matcher).", examples=[None])
    merged_at: datetime = Field(examples=["2026-03-05T15:10:00Z"])
    undone_by: str | None = Field(examples=[None])
    undone_at: datetime | None = Field(examples=[None])
