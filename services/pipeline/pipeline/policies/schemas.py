from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from shared.http.schemas import RequestModel, ResponseModel

Subject = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
JOB_TYPE_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"


class ReleasePolicyIn(RequestModel):
    mode: Literal["immediate", "approval"] = Field(
        description="`immediate`: released at once, or after the one approver named; "
        "`approval`: after every approver in `approver_ids` approved, in that order.",
        examples=["approval"],
    )
    approver_ids: list[Subject] = Field(
        default_factory=list,
        max_length=10,
        description="Subjects of the approvers, in the order they approve. At most one for "
        "`immediate`, at least one for `approval`.",
        examples=[["hr-lead-wang", "director-chen"]],
    )
    step_sla_hours: int = Field(
        default=24,
        ge=1,
        le=720,
        description="Hours each approver has before being escalated, counted on workdays "
        "only (China's calendar with the overrides, Asia/Shanghai): 24 hours from a Friday at "
        "15:00 end on Monday at 15:00.",
        examples=[24],
    )
    escalate_to: list[Subject] = Field(
        default_factory=list,
        max_length=20,
        description="Who is told when an approver sits past the SLA; empty: the job's owners.",
        examples=[["director-chen"]],
    )

    @field_validator("approver_ids")
    @classmethod
    def _approvers_fit_the_mode(cls, approvers: list[str], info: ValidationInfo) -> list[str]:
        if len(set(approvers)) != len(approvers):
            raise ValueError("an approver may appear only once in a chain")
        mode = info.data.get("mode")
        if mode == "immediate" and len(approvers) > 1:
            raise ValueError("immediate release takes at most one approver")
        if mode == "approval" and not approvers:
            raise ValueError("approval release needs at least one approver")
        return approvers


class ReleasePolicyRead(ResponseModel):
    job_type: str = Field(examples=["core"])
    mode: str = Field(examples=["approval"])
    approver_ids: list[str] = Field(examples=[["hr-lead-wang", "director-chen"]])
    step_sla_hours: int = Field(examples=[24])
    escalate_to: list[str] = Field(examples=[["director-chen"]])
    version: int = Field(description="Send as If-Match to replace the policy.", examples=[1])
    updated_by: str = Field(examples=["admin-zoe"])
    updated_at: datetime


class RejectionReasonCreate(RequestModel):
    code: Code = Field(examples=["salary_mismatch"])
    label_zh: str = Field(min_length=1, max_length=200, examples=["薪资期望不匹配"])
    label_en: str = Field(min_length=1, max_length=200, examples=["Salary expectations differ"])
    candidate_visible: bool = Field(
        default=True,
        description="Whether the candidate may see the label (otherwise a neutral text).",
        examples=[True],
    )


class RejectionReasonUpdate(RequestModel):
    label_zh: str | None = Field(default=None, min_length=1, max_length=200, examples=["不合适"])
    label_en: str | None = Field(default=None, min_length=1, max_length=200, examples=["Not a fit"])
    candidate_visible: bool | None = Field(default=None, examples=[False])
    active: bool | None = Field(
        default=None, description="Inactive reasons cannot be used any more.", examples=[False]
    )


class RejectionReasonRead(ResponseModel):
    code: str = Field(examples=["not_qualified"])
    label_zh: str = Field(examples=["不符合岗位要求"])
    label_en: str = Field(examples=["Does not meet the requirements"])
    candidate_visible: bool = Field(examples=[True])
    active: bool = Field(examples=[True])
    created_at: datetime
