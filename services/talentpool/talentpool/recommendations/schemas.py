from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from shared.http.schemas import ResponseModel
from talentpool.recommendations import ranking
from talentpool.recommendations.service import CANDIDATE_CAP


class ScoreParts(ResponseModel):
    """Each part between 0 and 1; the score is their weighted average (see `weights`)."""

    runner_up: float = Field(
        description="1 with the runner_up tag (passed an interview, not hired), else 0.",
        examples=[1.0],
    )
    skills: float | None = Field(
        description="Share of the wanted skills the person has; null when none were asked "
        "for (then left out of the average).",
        examples=[0.5],
    )
    engagement: float = Field(description="Engagement score / 100.", examples=[0.82])
    recency: float = Field(description="0.5 ** (days since last activity / 180).", examples=[0.91])


class RecommendationRead(ResponseModel):
    profile_id: uuid.UUID = Field(examples=["0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"])
    score: float = Field(description="0-100, higher is better.", examples=[78.35])
    parts: ScoreParts
    matched_skills: list[str] = Field(
        description="The wanted skills the person has (lower case).", examples=[["python"]]
    )
    skills: list[str] = Field(examples=[["python", "django", "postgresql"]])
    engagement_score: int = Field(examples=[82])
    last_activity_at: datetime = Field(examples=["2025-02-20T10:00:00Z"])
    furthest_stage_kind: str | None = Field(
        description="The furthest stage any of their applications reached.",
        examples=["interview"],
    )
    tags: list[str] = Field(description="Tags in force.", examples=[["runner_up"]])


class RecommendationsRead(ResponseModel):
    job_id: uuid.UUID = Field(examples=["0193b0a5-7f80-7191-9a1b-2c3d4e5f6a7d"])
    skills: list[str] = Field(
        description="The wanted skills, as compared (lower case).", examples=[["python", "sql"]]
    )
    weights: dict[str, float] = Field(
        description="Each part's weight in the score.", examples=[ranking.WEIGHTS]
    )
    considered: int = Field(
        description=f"How many eligible people were scored (at most {CANDIDATE_CAP}).",
        examples=[1250],
    )
    items: list[RecommendationRead]
