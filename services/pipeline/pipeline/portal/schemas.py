from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from shared.http.schemas import RequestModel, ResponseModel

# Staff: the candidate's links


class LinkCreate(RequestModel):
    revoke_previous: bool = Field(
        default=False,
        description="Revoke every earlier link of this application (e.g. one sent to a wrong "
        "address) in the same step.",
        examples=[True],
    )


class LinkIssued(ResponseModel):
    id: uuid.UUID = Field(
        description="The link's id, to list or revoke it.",
        examples=["0193e0c4-2222-7000-8000-00000000000b"],
    )
    token: str = Field(
        description="The candidate's bearer token. Shown only in this answer and stored only as "
        "a hash: put it in the link now.",
        examples=["h1Vq3f0Hc9Zp3q8Yw0c3Yk1Qm3aZ6rLq2n8pX4sUe5o"],
    )
    expires_at: datetime = Field(examples=["2026-06-12T06:00:00Z"])


class LinkRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193e0c4-2222-7000-8000-00000000000b"])
    created_at: datetime = Field(examples=["2026-03-14T06:00:00Z"])
    expires_at: datetime = Field(examples=["2026-06-12T06:00:00Z"])
    revoked_at: datetime | None = Field(examples=[None])
    last_used_at: datetime | None = Field(
        description="When the candidate last used it (to the minute).", examples=[None]
    )
    state: Literal["active", "expired", "revoked"] = Field(examples=["active"])


# Candidate: the status view


class TimelineStage(ResponseModel):
    key: str = Field(examples=["round_2"])
    kind: str = Field(examples=["interview"])
    label: str = Field(description="The stage's name in the answer's language.", examples=["二面"])
    state: Literal["done", "skipped", "current", "ended", "upcoming"] = Field(
        description="`done`: passed (with when it was entered and left); `skipped`: passed "
        "without being visited; `current`: in progress; `ended`: where a rejected, withdrawn "
        "or hired application stopped; `upcoming`: still ahead.",
        examples=["current"],
    )
    entered_at: datetime | None = Field(examples=["2026-03-13T13:30:00Z"])
    left_at: datetime | None = Field(examples=[None])
    expected_by: datetime | None = Field(
        description="For the current stage: its expected completion, the end of the business "
        "day its SLA (in business days, China's calendar) after it was entered. For an "
        "upcoming stage: a projection, each stage counted from the one before.",
        examples=["2026-03-18T15:59:59Z"],
    )
    overdue: bool = Field(
        description="The current stage is past its expected completion.", examples=[False]
    )


class ReviewProgress(ResponseModel):
    state: Literal["under_review", "scheduled"] = Field(
        description="`under_review`: awaiting approval; `scheduled`: approved, to be told at "
        "`expected_by`.",
        examples=["under_review"],
    )
    label: str = Field(examples=["结果审核中，预计 2026-03-18 18:00 前告知"])  # noqa: RUF001
    expected_by: datetime | None = Field(examples=["2026-03-18T10:00:00Z"])
    steps_done: int = Field(examples=[1])
    steps_total: int = Field(examples=[2])


class ReleasedResult(ResponseModel):
    stage_key: str = Field(examples=["ai_interview"])
    stage_label: str = Field(examples=["AI面试"])
    decision: Literal["advance", "move", "reject", "hire"] = Field(examples=["advance"])
    score: Decimal | None = Field(examples=["86.50"])
    dimension_scores: dict[str, Decimal] | None = Field(
        examples=[{"communication": "88.00", "problem_solving": "85.00"}]
    )
    message: str | None = Field(
        description="What HR wrote to the candidate with the result.",
        examples=["Congratulations, see you in the next round."],
    )
    released_at: datetime | None = Field(examples=["2026-03-16T02:00:00Z"])


class AiInterviewStatus(ResponseModel):
    status: str = Field(examples=["completed"])
    label: str = Field(examples=["已完成"])
    invited_at: datetime | None = Field(examples=["2026-03-13T02:00:00Z"])
    started_at: datetime | None = Field(examples=["2026-03-13T08:00:00Z"])
    completed_at: datetime | None = Field(examples=["2026-03-13T08:40:00Z"])
    expired_at: datetime | None = Field(examples=[None])


class MessageSummary(ResponseModel):
    total: int = Field(examples=[12])
    unread: int = Field(description="HR's messages the candidate has not read.", examples=[1])
    last_message_at: datetime | None = Field(examples=["2026-03-14T06:00:00Z"])


class PortalView(ResponseModel):
    application_id: uuid.UUID = Field(examples=["0193e0c4-5b6a-7c3d-8e9f-0a1b2c3d4e5f"])
    locale: Literal["zh-CN", "en"] = Field(examples=["zh-CN"])
    job_title: str = Field(examples=["Backend engineer"])
    status: Literal["active", "rejected", "withdrawn", "hired"] = Field(examples=["active"])
    status_label: str = Field(examples=["进行中"])
    rejection_reason: str | None = Field(
        description="The reason's label, only where the reason is one shown to candidates.",
        examples=[None],
    )
    current_stage: str | None = Field(examples=["round_2"])
    expected_by: datetime | None = Field(
        description="The current stage's expected completion.",
        examples=["2026-03-18T15:59:59Z"],
    )
    overdue: bool = Field(examples=[False])
    calendar_known: bool = Field(
        description="False when a date counted falls in a year whose official holidays are not "
        "known yet (only weekends were skipped there), so dates may move.",
        examples=[True],
    )
    timeline: list[TimelineStage]
    review: ReviewProgress | None = Field(
        description="A result awaiting approval or release: when it is expected and how many "
        "approval steps are done.",
        examples=[
            {
                "state": "under_review",
                "label": "Under review, expected by 2026-03-18 18:00 (China time)",
                "expected_by": "2026-03-18T10:00:00Z",
                "steps_done": 1,
                "steps_total": 2,
            }
        ],
    )
    results: list[ReleasedResult] = Field(description="Results released to the candidate.")
    ai_interviews: list[AiInterviewStatus]
    human_review_requested_at: datetime | None = Field(examples=[None])
    messages: MessageSummary


class HumanReviewRequested(ResponseModel):
    requested_at: datetime = Field(examples=["2026-03-14T06:00:00Z"])
