from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from notifier.deliveries.schemas import DeliveryRead
from shared.http.schemas import ResponseModel

_ID = "0193b0a5-7a8b-7c9d-8e0f-1a2b3c4d5e6f"


class NotificationRead(ResponseModel):
    id: uuid.UUID = Field(examples=[_ID])
    kind: str = Field(examples=["stage_passed"])
    recipient_kind: Literal["candidate", "staff", "interviewer", "robot", "endpoint"] = Field(
        examples=["candidate"]
    )
    recipient_id: str = Field(examples=[_ID])
    candidate_id: uuid.UUID | None = Field(examples=[_ID])
    application_id: uuid.UUID | None = Field(examples=[_ID])
    job_id: uuid.UUID | None = Field(examples=[_ID])
    status: Literal["pending", "sent", "engaged", "unread", "suppressed", "failed"] = Field(
        description="pending until a delivery is sent; engaged once seen, read or clicked on "
        "any channel; unread when its fallbacks ran out; suppressed when the recipient "
        "unsubscribed or muted every channel; failed when every delivery failed.",
        examples=["sent"],
    )
    urgent: bool = Field(examples=[False])
    data: dict[str, Any] = Field(
        description="The template variables the event gave (never a name or an address).",
        examples=[{"from_stage": "ai_interview", "to_stage": "round_2"}],
    )
    source_event_id: uuid.UUID = Field(examples=[_ID])
    source_event_type: str = Field(examples=["pipeline.stage_changed.v1"])
    reason: str | None = Field(examples=[None])
    first_sent_at: datetime | None = Field(examples=["2026-12-01T00:00:01Z"])
    engaged_at: datetime | None = Field(examples=[None])
    created_at: datetime = Field(examples=["2026-12-01T00:00:00Z"])
    updated_at: datetime = Field(examples=["2026-12-01T00:00:01Z"])


class NotificationDetail(NotificationRead):
    deliveries: list[DeliveryRead] = Field(description="Its deliveries, oldest first.")
