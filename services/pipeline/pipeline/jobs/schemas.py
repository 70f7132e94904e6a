from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from pipeline.templates.schemas import EXAMPLE_STAGES, StageOut, Stages
from shared.http.schemas import RequestModel, ResponseModel

JobType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
OwnerId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# A score threshold on the AI interview's 0..100 scale.
Score = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]

_ADVANCE = (
    "A completed AI interview moves the application to the next stage when its score is at "
    "least this; null: never automatically."
)
_REJECT = (
    "An AI score below this rejects the application without a human decision; null (the "
    "default): an AI score never rejects on its own."
)


class JobCreate(RequestModel):
    title: str = Field(min_length=1, max_length=200, examples=["Backend engineer"])
    department: str | None = Field(default=None, max_length=200, examples=["Platform"])
    location: str | None = Field(default=None, max_length=200, examples=["Shanghai"])
    job_type: JobType = Field(
        default="basic",
        examples=["core"],
        description="Selects the result-release policy; a policy must exist for it.",
    )
    owner_ids: list[OwnerId] = Field(
        default_factory=list,
        max_length=50,
        description="HR users responsible for the job; the creating HR user is always added.",
        examples=[["hr-alice"]],
    )
    stages: Stages | None = Field(
        default=None,
        description="The job's stages, given inline. Give either this or `template_id`.",
        examples=[EXAMPLE_STAGES],
    )
    template_id: uuid.UUID | None = Field(
        default=None,
        description="Copy the stages of this template (not archived). Give either this or "
        "`stages`.",
        examples=["0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90"],
    )
    template_version: int | None = Field(
        default=None, ge=1, description="The template's version; default its latest.", examples=[2]
    )
    ai_advance_min_score: Score | None = Field(default=None, description=_ADVANCE, examples=[75])
    ai_reject_below_score: Score | None = Field(default=None, description=_REJECT, examples=[30])


class JobUpdate(RequestModel):
    """Only the fields sent change; `null` clears an optional field."""

    title: str | None = Field(default=None, min_length=1, max_length=200, examples=["SRE"])
    department: str | None = Field(default=None, max_length=200, examples=["Infrastructure"])
    location: str | None = Field(default=None, max_length=200, examples=["Beijing"])
    owner_ids: list[OwnerId] | None = Field(
        default=None, max_length=50, examples=[["hr-alice", "hr-bob"]]
    )
    status: Literal["open", "closed"] | None = Field(
        default=None, description="A closed job takes no new applications.", examples=["closed"]
    )
    ai_advance_min_score: Score | None = Field(default=None, description=_ADVANCE, examples=[80])
    ai_reject_below_score: Score | None = Field(default=None, description=_REJECT, examples=[20])

    # Run only on fields that were sent: these may change but not be cleared.
    @field_validator("title", "owner_ids", "status")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be changed but not cleared")
        return value


class JobRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193b0a5-1c2d-7e3f-8a9b-0c1d2e3f4a5b"])
    title: str = Field(examples=["Backend engineer"])
    department: str | None = Field(examples=["Platform"])
    location: str | None = Field(examples=["Shanghai"])
    job_type: str = Field(examples=["core"])
    owner_ids: list[str] = Field(examples=[["hr-alice"]])
    stages: list[StageOut] = Field(description="The job's own copy of its stages.")
    template_id: uuid.UUID | None = Field(
        examples=["0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90"],
        description="The template the stages were copied from, if any.",
    )
    template_version: int | None = Field(examples=[2])
    status: Literal["open", "closed"] = Field(examples=["open"])
    ai_advance_min_score: float | None = Field(examples=[75.0])
    ai_reject_below_score: float | None = Field(examples=[None])
    version: int = Field(description="Send as If-Match to change the job.", examples=[1])
    created_at: datetime
    created_by: str = Field(examples=["hr-alice"])
    updated_at: datetime
