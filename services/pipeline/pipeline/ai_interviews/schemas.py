from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator

from pipeline.ai_interviews.status import Status
from shared.http.schemas import RequestModel, ResponseModel

Score = Annotated[Decimal, Field(ge=0, le=100)]
DimensionName = Annotated[str, Field(min_length=1, max_length=60)]

_RESULT_TYPES = ("completed", "report_ready")


class AiInterviewDelivery(RequestModel):
    """The body of a vendor's webhook: our documented contract (see docs/pipeline/ai-interviews.md).

    ``score`` comes with ``completed`` and ``report_ready``; ``dimension_scores`` and
    ``report_url`` with ``report_ready`` (and may come with ``completed``); none of them with
    the other types. Unknown fields are refused, so a vendor's typo is a 422 naming it.
    """

    type: Status = Field(
        description="What happened: invited, opened, started, completed, expired, report_ready.",
        examples=["completed"],
    )
    application_id: uuid.UUID = Field(
        description="Our application's id, as given to the vendor with the invitation.",
        examples=["0193a8f2-5c1e-7c3a-9b1d-2f4e6a8c0b1d"],
    )
    interview_id: str = Field(
        min_length=1,
        max_length=200,
        description="The vendor's own id of the interview.",
        examples=["iv_7Hk2pQ"],
    )
    occurred_at: AwareDatetime = Field(
        description="When it happened at the vendor (RFC 3339 with an offset).",
        examples=["2025-03-03T10:15:00+08:00"],
    )
    score: Score | None = Field(
        default=None,
        validate_default=True,
        description="Overall score 0..100; required with completed and report_ready only.",
        examples=[86.5],
    )
    dimension_scores: dict[DimensionName, Score] | None = Field(
        default=None,
        validate_default=True,
        max_length=30,
        description="Score 0..100 per dimension; required with report_ready, optional with "
        "completed.",
        examples=[{"communication": 90, "problem_solving": 82.5}],
    )
    report_url: str | None = Field(
        default=None,
        validate_default=True,
        max_length=2000,
        description="https link to the vendor's report; required with report_ready, optional "
        "with completed.",
        examples=["https://vendor.example.com/reports/iv_7Hk2pQ"],
    )

    # Field validators (run on the defaults too) so a 422 names the offending field.
    @field_validator("score")
    @classmethod
    def _score_with_results(cls, score: Decimal | None, info: ValidationInfo) -> Decimal | None:
        kind = info.data.get("type")
        if kind in _RESULT_TYPES and score is None:
            raise ValueError(f"score is required with {kind}")
        if kind not in _RESULT_TYPES and kind is not None and score is not None:
            raise ValueError(f"score is only sent with completed or report_ready, not {kind}")
        return score

    @field_validator("dimension_scores")
    @classmethod
    def _dimensions_with_results(
        cls, dimensions: dict[str, Decimal] | None, info: ValidationInfo
    ) -> dict[str, Decimal] | None:
        kind = info.data.get("type")
        if kind == "report_ready" and dimensions is None:
            raise ValueError("dimension_scores is required with report_ready")
        if kind not in _RESULT_TYPES and kind is not None and dimensions is not None:
            raise ValueError(
                f"dimension_scores is only sent with completed or report_ready, not {kind}"
            )
        return dimensions

    @field_validator("report_url")
    @classmethod
    def _https_report(cls, url: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("type")
        if kind == "report_ready" and url is None:
            raise ValueError("report_url is required with report_ready")
        if url is None:
            return None
        if kind not in _RESULT_TYPES and kind is not None:
            raise ValueError(f"report_url is only sent with completed or report_ready, not {kind}")
        if not url.startswith("https://") or len(url) <= len("https://") or " " in url:
            raise ValueError("report_url must be an https URL")
        return url


DELIVERY_EXAMPLES: dict[str, dict[str, Any]] = {
    "invited": {
        "summary": "The candidate was invited",
        "value": {
            "type": "invited",
            "application_id": "0193a8f2-5c1e-7c3a-9b1d-2f4e6a8c0b1d",
            "interview_id": "iv_7Hk2pQ",
            "occurred_at": "2025-03-03T09:00:00+08:00",
        },
    },
    "started": {
        "summary": "The candidate started the interview",
        "value": {
            "type": "started",
            "application_id": "0193a8f2-5c1e-7c3a-9b1d-2f4e6a8c0b1d",
            "interview_id": "iv_7Hk2pQ",
            "occurred_at": "2025-03-03T10:00:00+08:00",
        },
    },
    "completed": {
        "summary": "The candidate completed it; the overall score is known",
        "value": {
            "type": "completed",
            "application_id": "0193a8f2-5c1e-7c3a-9b1d-2f4e6a8c0b1d",
            "interview_id": "iv_7Hk2pQ",
            "occurred_at": "2025-03-03T10:15:00+08:00",
            "score": 86.5,
        },
    },
    "report_ready": {
        "summary": "The vendor's report is ready",
        "value": {
            "type": "report_ready",
            "application_id": "0193a8f2-5c1e-7c3a-9b1d-2f4e6a8c0b1d",
            "interview_id": "iv_7Hk2pQ",
            "occurred_at": "2025-03-03T10:40:00+08:00",
            "score": 86.5,
            "dimension_scores": {"communication": 90, "problem_solving": 82.5},
            "report_url": "https://vendor.example.com/reports/iv_7Hk2pQ",
        },
    },
    "expired": {
        "summary": "The completion window passed without a completed interview",
        "value": {
            "type": "expired",
            "application_id": "0193a8f2-5c1e-7c3a-9b1d-2f4e6a8c0b1d",
            "interview_id": "iv_7Hk2pQ",
            "occurred_at": "2025-03-06T09:00:00+08:00",
        },
    },
}


class DeliveryAccepted(ResponseModel):
    """The answer to an accepted delivery; its effect on the interview follows after commit."""

    webhook_id: str = Field(
        description="The delivery's `webhook-id`.", examples=["msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"]
    )
    duplicate: bool = Field(
        description="True if this `webhook-id` was received before: nothing was done again.",
        examples=[False],
    )


class AiInterviewRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193a8f3-1111-7c3a-9b1d-2f4e6a8c0b1d"])
    application_id: uuid.UUID = Field(examples=["0193a8f2-5c1e-7c3a-9b1d-2f4e6a8c0b1d"])
    vendor: str = Field(examples=["acme"])
    external_id: str | None = Field(
        description="The vendor's id of the interview.", examples=["iv_7Hk2pQ"]
    )
    status: Status = Field(examples=["report_ready"])
    score: Decimal | None = Field(examples=[86.5])
    dimension_scores: dict[str, Decimal] | None = Field(
        examples=[{"communication": 90, "problem_solving": 82.5}]
    )
    report_url: str | None = Field(examples=["https://vendor.example.com/reports/iv_7Hk2pQ"])
    invited_at: datetime | None = Field(examples=["2025-03-03T01:00:00Z"])
    opened_at: datetime | None = Field(examples=["2025-03-03T01:30:00Z"])
    started_at: datetime | None = Field(examples=["2025-03-03T02:00:00Z"])
    completed_at: datetime | None = Field(examples=["2025-03-03T02:15:00Z"])
    expired_at: datetime | None = Field(examples=[None])
    report_ready_at: datetime | None = Field(examples=["2025-03-03T02:40:00Z"])
    updated_at: datetime = Field(examples=["2025-03-03T02:40:01Z"])


class UnmatchedDeliveryRead(ResponseModel):
    id: int = Field(examples=[42])
    vendor: str = Field(examples=["acme"])
    webhook_id: str = Field(examples=["msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"])
    reason: Literal["unknown_application", "interview_mismatch"] = Field(
        description="unknown_application: no application with the id the vendor sent; "
        "interview_mismatch: the application already has another interview at this vendor.",
        examples=["unknown_application"],
    )
    payload: dict[str, Any] = Field(
        description="The verified body as the vendor sent it.",
        examples=[DELIVERY_EXAMPLES["completed"]["value"]],
    )
    received_at: datetime = Field(examples=["2025-03-03T02:15:01Z"])
    resolved_at: datetime | None = Field(examples=[None])
    resolution: Literal["dismissed", "replayed", "already_delivered"] | None = Field(
        description="dismissed: closed by an admin; replayed: applied once the application "
        "existed; already_delivered: the vendor's own retry had got through first.",
        examples=[None],
    )
    resolved_by: str | None = Field(examples=[None])
