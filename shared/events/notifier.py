"""Events the notifier service produces."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared.events.envelope import EventData

DeliveryStatus = Literal[
    "queued", "sending", "sent", "delivered", "bounced", "undelivered", "failed", "cancelled"
]
Engagement = Literal["none", "seen", "read", "clicked"]
RecipientKind = Literal["candidate", "staff", "interviewer", "robot", "endpoint"]


class NotificationStatusChangedV1(EventData):
    event_type = "notifier.notification_status_changed.v1"
    producer = "notifier"
    summary = (
        "A delivery of a notification moved forward: sent, delivered, bounced, failed, or was "
        "seen, read or clicked by its recipient."
    )

    notification_id: UUID
    delivery_id: UUID
    kind: str = Field(description="The notification kind.", examples=["interview_reminder"])
    channel: Literal["email", "sms", "in_app", "chat", "webhook"]
    recipient_kind: RecipientKind
    recipient_id: str = Field(
        description="The candidate id, staff subject, interviewer id, robot or endpoint id."
    )
    application_id: UUID | None = None
    job_id: UUID | None = None
    candidate_id: UUID | None = None
    status: DeliveryStatus
    engagement: Engagement
    reason: str | None = Field(default=None, description="Why it failed or bounced.")
    occurred_at: AwareDatetime


class NotificationUnreadV1(EventData):
    event_type = "notifier.notification_unread.v1"
    producer = "notifier"
    summary = (
        "Nobody read a notification on any channel its fallback policy tried: HR should follow "
        "up in person."
    )

    notification_id: UUID
    kind: str = Field(examples=["interview_invitation"])
    recipient_kind: RecipientKind
    recipient_id: str
    application_id: UUID | None = None
    job_id: UUID | None = None
    candidate_id: UUID | None = None
    owner_ids: list[str] = Field(description="The job's HR owners, who should follow up.")
    channels_tried: list[str]
    first_sent_at: AwareDatetime | None
    occurred_at: AwareDatetime
