"""Stages and stage templates as the API reads and writes them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from shared.http.schemas import RequestModel, ResponseModel

StageKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
StageKind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,39}$")]

MAX_STAGES = 30


class StageIn(RequestModel):
    key: StageKey = Field(examples=["round_2"])
    kind: StageKind = Field(
        description="ai_interview, evaluation, interview, background_check, offer, hired, ...",
        examples=["interview"],
    )
    name_zh: str = Field(min_length=1, max_length=80, examples=["二面"])
    name_en: str = Field(min_length=1, max_length=80, examples=["Second round"])
    sla_days: int = Field(
        ge=0, le=365, description="Business days the stage should take.", examples=[3]
    )
    notify_candidate: bool = Field(
        default=False,
        description="Whether the candidate is told when their application enters the stage.",
        examples=[True],
    )


def _unique_keys(stages: list[StageIn]) -> list[StageIn]:
    keys = [stage.key for stage in stages]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"stage keys must be unique; repeated: {', '.join(repeated)}")
    return stages


# Validated on the list itself, so a 422 names `stages` as the offending field.
Stages = Annotated[
    list[StageIn], Field(min_length=1, max_length=MAX_STAGES), AfterValidator(_unique_keys)
]


EXAMPLE_STAGES = [
    {
        "key": "ai_interview",
        "kind": "ai_interview",
        "name_zh": "AI面试",
        "name_en": "AI interview",
        "sla_days": 2,
        "notify_candidate": True,
    },
    {
        "key": "round_1",
        "kind": "interview",
        "name_zh": "一面",
        "name_en": "First round",
        "sla_days": 3,
        "notify_candidate": True,
    },
]


class StageOut(ResponseModel):
    key: str = Field(examples=["round_2"])
    kind: str = Field(examples=["interview"])
    name_zh: str = Field(examples=["二面"])
    name_en: str = Field(examples=["Second round"])
    sla_days: int = Field(examples=[3])
    # Stages stored before the field existed read as not notifying.
    notify_candidate: bool = Field(default=False, examples=[True])


class TemplateCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200, examples=["Engineering, two rounds"])
    description: str | None = Field(
        default=None, max_length=2000, examples=["AI interview, two interviews, offer."]
    )
    stages: Stages = Field(examples=[EXAMPLE_STAGES])


class TemplateVersionCreate(RequestModel):
    stages: Stages = Field(examples=[EXAMPLE_STAGES])


class TemplateVersionSummary(ResponseModel):
    version: int = Field(examples=[2])
    created_by: str = Field(examples=["hr-alice"])
    created_at: datetime


class TemplateVersionRead(TemplateVersionSummary):
    template_id: uuid.UUID = Field(examples=["0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90"])
    stages: list[StageOut]


class TemplateSummary(ResponseModel):
    id: uuid.UUID = Field(examples=["0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90"])
    name: str = Field(examples=["Engineering, two rounds"])
    description: str | None = Field(examples=["AI interview, two interviews, offer."])
    latest_version: int = Field(description="Send as If-Match when adding a version.", examples=[2])
    archived_at: datetime | None = Field(
        description="Set once archived: no new jobs may use it.", examples=[None]
    )
    created_by: str = Field(examples=["hr-alice"])
    created_at: datetime
    updated_at: datetime


class TemplateRead(TemplateSummary):
    stages: list[StageOut] = Field(description="The stages of the latest version.")
    versions: list[TemplateVersionSummary] = Field(description="Every version, oldest first.")
