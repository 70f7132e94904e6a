from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from notifier.db import Base

CHANNELS = ("email", "sms", "in_app", "chat", "webhook")
DELIVERY_STATUSES = (
    "queued",
    "sending",
    "sent",
    "delivered",
    "bounced",
    "undelivered",
    "failed",
    "cancelled",
)
ENGAGEMENTS = ("none", "seen", "read", "clicked")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


# The reason of a delivery the person's erasure cancelled (and of its notification).
ERASED = "erased"


class Delivery(Base):
    """One notification on one channel: the unit that is sent, retried, tracked and shown in
    the in-app inbox. Unique per (notification, channel), so per (source event, recipient,
    channel, kind): however often an event arrives, a channel carries its message once.

    The dispatcher takes ``queued`` deliveries whose ``next_attempt_at`` has come, marks them
    ``sending`` until ``lease_until`` and records the provider's answer. Status and engagement
    only move forward.
    """

    __tablename__ = "deliveries"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    notification_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("notifications.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(sa.Text)
    step: Mapped[int] = mapped_column(sa.SmallInteger, server_default="0")
    status: Mapped[str] = mapped_column(sa.Text)
    engagement: Mapped[str] = mapped_column(sa.Text, server_default="none")
    attempts: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Why it waits (quiet_hours, throttle, retry), fails or bounces; never personal data.
    reason: Mapped[str | None] = mapped_column(sa.Text)
    provider_message_id: Mapped[str | None] = mapped_column(sa.Text, index=True)
    template_version: Mapped[int | None] = mapped_column(sa.Integer)
    # The rendered message, kept for the in-app inbox and for resending as it was.
    subject: Mapped[str | None] = mapped_column(sa.Text)
    body: Mapped[str | None] = mapped_column(sa.Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    seen_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    clicked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.UniqueConstraint("notification_id", "channel"),
        sa.CheckConstraint(f"channel IN ({_in(CHANNELS)})", name="channel"),
        sa.CheckConstraint(f"status IN ({_in(DELIVERY_STATUSES)})", name="status"),
        sa.CheckConstraint(f"engagement IN ({_in(ENGAGEMENTS)})", name="engagement"),
        sa.Index(
            "ix_deliveries_due",
            "next_attempt_at",
            postgresql_where=sa.text("status IN ('queued', 'sending')"),
        ),
        sa.Index("ix_deliveries_status_created", "status", "created_at"),
    )


class DeliveryEvent(Base):
    """What happened to a delivery, in order: each status or engagement change with its source
    (smtp, gateway, pixel, click, inbox, robot, endpoint, dispatcher). A provider's receipt
    carries its own id, and the same receipt twice is recorded once."""

    __tablename__ = "delivery_events"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(sa.Text)
    value: Mapped[str] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.Text)
    provider_event_id: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint("type IN ('status', 'engagement', 'attempt')", name="type"),
        sa.Index(
            "uq_delivery_events_receipt",
            "source",
            "provider_event_id",
            unique=True,
            postgresql_where=sa.text("provider_event_id IS NOT NULL"),
        ),
    )


class HeldReceipt(Base):
    """A provider's receipt about a message no delivery is known by yet. A receipt can overtake
    the send it is about (the provider answers the send, the dispatcher records the answer a
    moment later, the receipt comes in between); it is kept here and applied when the send is
    recorded (``dispatch.lifecycle``), or deleted by housekeeping after ``RECEIPT_HOLD``."""

    __tablename__ = "held_receipts"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    channel: Mapped[str] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.Text)
    provider_message_id: Mapped[str] = mapped_column(sa.Text)
    receipt_id: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)

    __table_args__ = (
        sa.UniqueConstraint("source", "receipt_id"),
        sa.Index("ix_held_receipts_channel_provider_message_id", "channel", "provider_message_id"),
    )
