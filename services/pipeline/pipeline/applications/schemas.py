from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import EmailStr, Field, ValidationInfo, field_validator

from shared.http.schemas import RequestModel, ResponseModel


class CandidateIn(RequestModel):
    full_name: str = Field(min_length=1, max_length=200, examples=["Li Lei"])
    email: EmailStr = Field(examples=["li.lei@example.com"])


class ApplicationCreate(RequestModel):
    candidate: CandidateIn


class ApplicationRead(ResponseModel):
    id: uuid.UUID
    job_id: uuid.UUID
    candidate_id: uuid.UUID
    stage_key: str = Field(examples=["ai_interview"])
    status: str = Field(examples=["active"])
    version: int = Field(description="Send as If-Match to change the application.", examples=[1])
    created_at: datetime
    updated_at: datetime


class TransitionIn(RequestModel):
    transition: Literal["advance", "move"] = Field(
        description="`advance`: to the next stage; `move`: to the stage named in `to_stage`.",
        examples=["move"],
    )
    to_stage: str | None = Field(
        default=None, max_length=40, validate_default=True, examples=["round_2"]
    )
    reason: str | None = Field(default=None, max_length=1000, examples=["Strong AI interview"])

    # A field validator (run on the default too) so the 422 names `to_stage` as the field.
    @field_validator("to_stage")
    @classmethod
    def _to_stage_for_move(cls, to_stage: str | None, info: ValidationInfo) -> str | None:
        transition = info.data.get("transition")
        if transition == "move" and not to_stage:
            raise ValueError("to_stage is required for move")
        if transition == "advance" and to_stage is not None:
            raise ValueError("advance goes to the next stage; leave to_stage out")
        return to_stage


class StageChangeRead(ResponseModel):
    transition: str = Field(examples=["move"])
    from_stage: str | None = Field(examples=["ai_interview"])
    to_stage: str = Field(examples=["round_2"])
    reason: str | None = Field(examples=["Strong AI interview"])
    actor_kind: str = Field(examples=["hr"])
    actor_id: str | None = Field(examples=["hr-alice"])
    version: int = Field(examples=[2])
    occurred_at: datetime
