from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, ValidationInfo, field_validator

from shared.http.schemas import RequestModel, ResponseModel

Decision = Literal["advance", "move", "reject", "hire"]
Score = Annotated[Decimal, Field(ge=0, le=1000, max_digits=6, decimal_places=2)]
Dimension = Annotated[str, StringConstraints(min_length=1, max_length=60)]


class ResultCreate(RequestModel):
    decision: Decision = Field(
        description="What happens to the application when the result is released.",
        examples=["advance"],
    )
    to_stage: str | None = Field(
        default=None,
        max_length=40,
        validate_default=True,
        description="Only for `move`, where it is required.",
        examples=[None],
    )
    reason_code: str | None = Field(
        default=None,
        max_length=40,
        validate_default=True,
        description="Only for `reject`, where it is required: an active rejection reason.",
        examples=[None],
    )
    score: Score | None = Field(default=None, examples=[Decimal("86.5")])
    dimension_scores: dict[Dimension, Score] | None = Field(
        default=None,
        max_length=30,
        examples=[{"communication": Decimal("90"), "problem_solving": Decimal("82")}],
    )
    internal_note: str | None = Field(
        default=None,
        max_length=4000,
        description="For staff only; never shown to the candidate.",
        examples=["Strong system design; check references."],
    )
    candidate_message: str | None = Field(
        default=None,
        max_length=4000,
        description="What the candidate is told once the result is released.",
        examples=["Congratulations, you are invited to the next round."],
    )
    release_at: AwareDatetime | None = Field(
        default=None,
        description="Release no earlier than this (after any approvals).",
        examples=["2026-03-05T10:00:00+08:00"],
    )

    @field_validator("to_stage")
    @classmethod
    def _to_stage_for_move(cls, to_stage: str | None, info: ValidationInfo) -> str | None:
        decision = info.data.get("decision")
        if decision == "move" and not to_stage:
            raise ValueError("to_stage is required for move")
        if decision is not None and decision != "move" and to_stage is not None:
            raise ValueError(f"{decision} does not take a stage; leave to_stage out")
        return to_stage

    @field_validator("reason_code")
    @classmethod
    def _reason_code_for_reject(cls, code: str | None, info: ValidationInfo) -> str | None:
        decision = info.data.get("decision")
        if decision == "reject" and not code:
            raise ValueError("reason_code is required for reject")
        if decision is not None and decision != "reject" and code is not None:
            raise ValueError("only reject takes a reason_code")
        return code


class ApprovalStepRead(ResponseModel):
    position: int = Field(description="1 for the first approver.", examples=[1])
    approver_id: str = Field(examples=["hr-lead-wang"])
    state: str = Field(
        description="waiting, pending (their turn), approved, declined or skipped.",
        examples=["pending"],
    )
    due_at: datetime | None = Field(description="When the approver is escalated.")
    decided_at: datetime | None
    comment: str | None = Field(examples=["Agreed."])
    escalated_at: datetime | None


class ResultRead(ResponseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    stage_key: str = Field(description="The stage the decision is about.", examples=["round_1"])
    decision: str = Field(examples=["advance"])
    to_stage: str | None = Field(
        description="For `move`, the stage asked for; once released, where the application went.",
        examples=["round_2"],
    )
    reason_code: str | None = Field(examples=[None])
    score: float | None = Field(examples=[86.5])
    dimension_scores: dict[str, float] | None = Field(examples=[{"communication": 90}])
    internal_note: str | None = Field(examples=["Strong system design."])
    candidate_message: str | None = Field(examples=["You are invited to the next round."])
    policy_mode: str = Field(examples=["approval"])
    state: str = Field(
        description="pending_approval, scheduled, released, declined or cancelled.",
        examples=["pending_approval"],
    )
    release_at: datetime | None
    expected_by: datetime | None = Field(
        description="When the result should be released if every approver uses their SLA."
    )
    released_at: datetime | None
    created_by: str = Field(examples=["hr-alice"])
    version: int = Field(examples=[1])
    created_at: datetime
    updated_at: datetime
    steps: list[ApprovalStepRead] = Field(description="The approval chain, in order.")


class ApprovalIn(RequestModel):
    comment: str | None = Field(default=None, max_length=2000, examples=["Agreed."])


class DeclineIn(RequestModel):
    comment: str = Field(
        min_length=1,
        max_length=2000,
        description="Why; HR sees it and may make a new decision.",
        examples=["Scores do not support an offer yet."],
    )


class PendingApprovalRead(ResponseModel):
    result_id: uuid.UUID
    position: int = Field(examples=[1])
    due_at: datetime | None = Field(description="When the approver is escalated.")
    escalated_at: datetime | None
    decision: str = Field(examples=["hire"])
    to_stage: str | None = Field(examples=[None])
    reason_code: str | None = Field(examples=[None])
    requested_by: str = Field(description="Who made the decision.", examples=["hr-alice"])
    application_id: uuid.UUID
    stage_key: str = Field(examples=["offer"])
    job_id: uuid.UUID
    job_title: str = Field(examples=["Backend engineer"])
