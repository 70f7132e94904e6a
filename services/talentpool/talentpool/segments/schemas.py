from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StringConstraints, ValidationInfo, field_validator

from shared.http.pagination import Page
from shared.http.schemas import RequestModel, ResponseModel
from talentpool.segments import text
from talentpool.tags.names import TagName

MAX_LIST = 20
MAX_QUERY_TERMS = 32

StageKind = Literal["ai_interview", "evaluation", "interview", "background_check", "offer", "hired"]
"""The kinds the furthest stage is ranked by (``profiles.stages``): a kind a template invented
ranks like ``evaluation``."""

Skill = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]

EXAMPLE_FILTERS: dict[str, Any] = {
    "tags_any": ["runner_up", "re_invite"],
    "engagement_min": 60,
    "location": "Shanghai",
    "text": "数据分析",
    "exclude_on_hold": True,
}


class SegmentFilters(RequestModel):
    """Who is in a segment: every filter given must hold (an empty list is no filter).
    Merged and anonymized profiles are never in a segment."""

    tags_all: list[TagName] | None = Field(
        default=None,
        max_length=MAX_LIST,
        description="Has every one of these tags.",
        examples=[["runner_up"]],
    )
    tags_any: list[TagName] | None = Field(
        default=None,
        max_length=MAX_LIST,
        description="Has at least one of these tags.",
        examples=[["runner_up", "re_invite"]],
    )
    tags_none: list[TagName] | None = Field(
        default=None,
        max_length=MAX_LIST,
        description="Has none of these tags.",
        examples=[["no_show"]],
    )
    skills_any: list[Skill] | None = Field(
        default=None,
        max_length=MAX_LIST,
        description="Has at least one of these skills (case-insensitive).",
        examples=[["python", "sql"]],
    )
    skills_all: list[Skill] | None = Field(
        default=None,
        max_length=MAX_LIST,
        description="Has every one of these skills (case-insensitive).",
        examples=[["python"]],
    )
    text: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Words in the resume or HR's notes, Chinese or not: every word, and every "
        "pair of neighbouring Chinese characters, must occur (see docs/talentpool/segments.md).",
        examples=["数据分析 SQL"],
    )
    min_stage_kind: StageKind | None = Field(
        default=None,
        description="Reached at least this stage in some application (by the stage kinds' "
        "order: ai_interview, evaluation, interview, background_check, offer, hired).",
        examples=["interview"],
    )
    engagement_min: int | None = Field(default=None, ge=0, le=100, examples=[60])
    engagement_max: int | None = Field(default=None, ge=0, le=100, examples=[100])
    active_after: AwareDatetime | None = Field(
        default=None,
        description="Last activity at or after this time.",
        examples=["2025-01-01T00:00:00+08:00"],
    )
    active_before: AwareDatetime | None = Field(
        default=None,
        description="Last activity before this time.",
        examples=["2026-01-01T00:00:00+08:00"],
    )
    location: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The profile's location, case-insensitively equal.",
        examples=["Shanghai"],
    )
    exclude_on_hold: bool = Field(
        default=False, description="Leave out people on hold now.", examples=[True]
    )
    job_id: uuid.UUID | None = Field(
        default=None,
        description="Applied to this job.",
        examples=["0193b0a5-1c2d-7e3f-8a9b-0c1d2e3f4a5b"],
    )

    @field_validator("skills_any", "skills_all")
    @classmethod
    def _casefold(cls, value: list[str] | None) -> list[str] | None:
        # As profiles keep them (``profiles.service.normalized_skills``): NFKC, casefolded.
        if value is None:
            return None
        return list(dict.fromkeys(unicodedata.normalize("NFKC", s).casefold() for s in value))

    @field_validator("text")
    @classmethod
    def _has_terms(cls, value: str | None) -> str | None:
        if value is None:
            return None
        found = text.terms(value)
        if not found:
            raise ValueError("has no word or character to search for")
        if len(found) > MAX_QUERY_TERMS:
            raise ValueError(f"has more than {MAX_QUERY_TERMS} words and character pairs")
        return value

    @field_validator("engagement_max")
    @classmethod
    def _engagement_range(cls, value: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("engagement_min")
        if value is not None and low is not None and value < low:
            raise ValueError("must not be below engagement_min")
        return value

    @field_validator("active_before")
    @classmethod
    def _activity_range(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        after = info.data.get("active_after")
        if value is not None and after is not None and value <= after:
            raise ValueError("must be after active_after")
        return value

    def stored(self) -> dict[str, Any]:
        """The filters as the segment keeps them (JSON, without what was not given)."""
        return self.model_dump(mode="json", exclude_none=True)


SegmentName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class SegmentWrite(RequestModel):
    """A segment as created, or as replaced by PUT (every field given again)."""

    name: SegmentName = Field(examples=["Data analysts worth a second look"])
    description: str | None = Field(
        default=None, max_length=2000, examples=["Runners-up in Shanghai who did SQL work."]
    )
    filters: SegmentFilters = Field(examples=[EXAMPLE_FILTERS])


class PreviewRequest(RequestModel):
    filters: SegmentFilters = Field(examples=[EXAMPLE_FILTERS])


class SegmentRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193b0a5-7a8b-7c9d-8e0f-1a2b3c4d5e6f"])
    name: str = Field(examples=["Data analysts worth a second look"])
    description: str | None = Field(examples=["Runners-up in Shanghai who did SQL work."])
    filters: dict[str, Any] = Field(examples=[EXAMPLE_FILTERS])
    owner_id: str = Field(examples=["hr-alice"])
    version: int = Field(description="Send as If-Match to change the segment.", examples=[1])
    created_at: datetime
    updated_at: datetime


class PoolPerson(ResponseModel):
    """A person in a list: no name, email, phone or resume (open the profile for those)."""

    profile_id: uuid.UUID = Field(examples=["0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"])
    engagement_score: int = Field(examples=[72])
    furthest_stage: str | None = Field(
        description="The kind of the furthest stage any application reached.",
        examples=["interview"],
    )
    tags: list[str] = Field(examples=[["runner_up"]])
    skills: list[str] = Field(examples=[["python", "sql"]])
    location: str | None = Field(examples=["Shanghai"])
    last_activity_at: datetime


class PeoplePage(Page[PoolPerson]):
    count: int = Field(description="How many people match, over all pages.", examples=[1284])
