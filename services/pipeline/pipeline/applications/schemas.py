from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field, ValidationInfo, field_validator

from pipeline.applications.transitions import MoveCommand, TransitionName
from shared.http.schemas import RequestModel, ResponseModel


class ApplicationRead(ResponseModel):
    id: uuid.UUID
    job_id: uuid.UUID
    candidate_id: uuid.UUID
    stage_key: str = Field(examples=["ai_interview"])
    status: str = Field(examples=["active"])
    stage_entered_at: datetime = Field(description="When the application entered its stage.")
    rejection_reason: str | None = Field(
        description="The rejection reason's code, while rejected.", examples=[None]
    )
    version: int = Field(description="Send as If-Match to change the application.", examples=[1])
    created_at: datetime
    updated_at: datetime


class TransitionIn(RequestModel):
    transition: TransitionName = Field(
        description="`advance`: to the next stage; `move`: to the stage named in `to_stage`; "
        "`reject`: with a configured `reason_code`; `withdraw`: the candidate withdrew; "
        "`hire`: to the job's `hired` stage (or its last); `reopen`: undo a rejection.",
        examples=["move"],
    )
    to_stage: str | None = Field(
        default=None,
        max_length=40,
        validate_default=True,
        description="Only for `move`, where it is required.",
        examples=["round_2"],
    )
    reason_code: str | None = Field(
        default=None,
        max_length=40,
        validate_default=True,
        description="Only for `reject`, where it is required: an active rejection reason's code.",
        examples=["not_qualified"],
    )
    reason: str | None = Field(
        default=None,
        max_length=1000,
        description="Free text for the history (internal).",
        examples=["Strong AI interview"],
    )

    # Field validators (run on the defaults too) so the 422 names the offending field.
    @field_validator("to_stage")
    @classmethod
    def _to_stage_for_move(cls, to_stage: str | None, info: ValidationInfo) -> str | None:
        transition = info.data.get("transition")
        if transition == "move" and not to_stage:
            raise ValueError("to_stage is required for move")
        if transition is not None and transition != "move" and to_stage is not None:
            raise ValueError(f"{transition} does not take a stage; leave to_stage out")
        return to_stage

    @field_validator("reason_code")
    @classmethod
    def _reason_code_for_reject(cls, code: str | None, info: ValidationInfo) -> str | None:
        transition = info.data.get("transition")
        if transition == "reject" and not code:
            raise ValueError("reason_code is required for reject")
        if transition is not None and transition != "reject" and code is not None:
            raise ValueError("only reject takes a reason_code")
        return code

    def command(self) -> MoveCommand:
        return MoveCommand(
            transition=self.transition,
            to_stage=self.to_stage,
            reason_code=self.reason_code,
            reason=self.reason,
        )


class AllowedTransition(ResponseModel):
    transition: TransitionName = Field(examples=["advance"])
    to_stage: str = Field(examples=["round_2"])


class StageChangeRead(ResponseModel):
    transition: str = Field(examples=["move"])
    from_stage: str | None = Field(examples=["ai_interview"])
    to_stage: str = Field(examples=["round_2"])
    status: str = Field(
        description="The application's status after the change.", examples=["active"]
    )
    reason_code: str | None = Field(examples=[None])
    reason: str | None = Field(examples=["Strong AI interview"])
    result_id: uuid.UUID | None = Field(
        description="The released result that made the change, if any.", examples=[None]
    )
    actor_kind: str = Field(examples=["hr"])
    actor_id: str | None = Field(examples=["hr-alice"])
    version: int = Field(examples=[2])
    occurred_at: datetime
