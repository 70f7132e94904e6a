from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.http.schemas import RequestModel, ResponseModel

ChannelName = Literal["email", "sms", "in_app", "chat", "webhook"]
StatusName = Literal[
    "queued", "sending", "sent", "delivered", "bounced", "undelivered", "failed", "cancelled"
]
EngagementName = Literal["none", "seen", "read", "clicked"]
_ID = "0193b0a5-7a8b-7c9d-8e0f-1a2b3c4d5e6f"


class DeliveryRead(ResponseModel):
    id: uuid.UUID = Field(examples=[_ID])
    notification_id: uuid.UUID = Field(examples=[_ID])
    kind: str = Field(examples=["interview_invitation"])
    channel: ChannelName = Field(examples=["email"])
    step: int = Field(description="0 for the first wave, n for the n-th fallback.", examples=[0])
    recipient_kind: str = Field(examples=["candidate"])
    recipient_id: str = Field(examples=[_ID])
    application_id: uuid.UUID | None = Field(examples=[_ID])
    job_id: uuid.UUID | None = Field(examples=[_ID])
    status: StatusName = Field(examples=["delivered"])
    engagement: EngagementName = Field(examples=["read"])
    attempts: int = Field(examples=[1])
    next_attempt_at: datetime | None = Field(
        description="When it is (re)tried, while queued.", examples=["2026-12-01T00:00:00Z"]
    )
    reason: str | None = Field(
        description="Why it waits (quiet_hours, throttle, fallback, a retry's cause) or why it "
        "failed.",
        examples=["quiet_hours"],
    )
    provider_message_id: str | None = Field(examples=["<0193b0a5@notifier>"])
    template_version: int | None = Field(examples=[0])
    sent_at: datetime | None = Field(examples=["2026-12-01T00:00:01Z"])
    delivered_at: datetime | None = Field(examples=["2026-12-01T00:00:05Z"])
    seen_at: datetime | None = Field(examples=[None])
    read_at: datetime | None = Field(examples=[None])
    clicked_at: datetime | None = Field(examples=[None])
    created_at: datetime = Field(examples=["2026-12-01T00:00:00Z"])
    updated_at: datetime = Field(examples=["2026-12-01T00:00:05Z"])


class DeliveryEventRead(ResponseModel):
    type: Literal["status", "engagement", "attempt"] = Field(examples=["status"])
    value: str = Field(examples=["delivered"])
    source: str = Field(examples=["sms_gateway"])
    reason: str | None = Field(examples=[None])
    occurred_at: datetime = Field(examples=["2026-12-01T00:00:05Z"])


class DeliveryDetail(DeliveryRead):
    events: list[DeliveryEventRead] = Field(description="What happened to it, oldest first.")


class ResendRequest(RequestModel):
    channel: ChannelName | None = Field(
        default=None,
        description="Send it on this channel instead (default: the same channel).",
        examples=["sms"],
    )


class ChannelStats(ResponseModel):
    channel: ChannelName = Field(examples=["email"])
    total: int = Field(examples=[1200])
    by_status: dict[str, int] = Field(examples=[{"delivered": 1100, "failed": 20, "sent": 80}])
    by_engagement: dict[str, int] = Field(examples=[{"none": 700, "read": 400, "clicked": 100}])
    delivery_rate: float | None = Field(
        description="Delivered (or engaged) over those that reached an end or were sent.",
        examples=[0.95],
    )
    read_rate: float | None = Field(
        description="Read or clicked over delivered (the in-app inbox and tracked email).",
        examples=[0.42],
    )
    failed_reasons: dict[str, int] = Field(
        description="The most frequent reasons of failure, with their counts.",
        examples=[{"no phone number": 12}],
    )


class StatsRead(ResponseModel):
    since: datetime = Field(examples=["2026-11-01T00:00:00Z"])
    until: datetime = Field(examples=["2026-12-01T00:00:00Z"])
    channels: list[ChannelStats]
