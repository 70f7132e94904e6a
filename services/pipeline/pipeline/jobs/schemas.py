from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from shared.http.schemas import RequestModel, ResponseModel

StageKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
StageKind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,39}$")]


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


class StageOut(ResponseModel):
    key: str = Field(examples=["round_2"])
    kind: str = Field(examples=["interview"])
    name_zh: str = Field(examples=["二面"])
    name_en: str = Field(examples=["Second round"])
    sla_days: int = Field(examples=[3])


class JobCreate(RequestModel):
    title: str = Field(min_length=1, max_length=200, examples=["Backend engineer"])
    department: str | None = Field(default=None, max_length=200, examples=["Platform"])
    location: str | None = Field(default=None, max_length=200, examples=["Shanghai"])
    job_type: str = Field(
        default="basic",
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        examples=["core"],
        description="Selects the result-release policy.",
    )
    owner_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        max_length=50,
        description="HR users responsible for the job; the creating HR user is always added.",
        examples=[["hr-alice"]],
    )
    stages: list[StageIn] = Field(min_length=1, max_length=30)

    # A field validator (not a model one) so the 422 names `stages` as the offending field.
    @field_validator("stages")
    @classmethod
    def _unique_stage_keys(cls, stages: list[StageIn]) -> list[StageIn]:
        keys = [stage.key for stage in stages]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ValueError(f"stage keys must be unique; repeated: {', '.join(repeated)}")
        return stages


class JobRead(ResponseModel):
    id: uuid.UUID
    title: str = Field(examples=["Backend engineer"])
    department: str | None = Field(examples=["Platform"])
    location: str | None = Field(examples=["Shanghai"])
    job_type: str = Field(examples=["core"])
    owner_ids: list[str] = Field(examples=[["hr-alice"]])
    stages: list[StageOut]
    created_at: datetime
    created_by: str = Field(examples=["hr-alice"])
