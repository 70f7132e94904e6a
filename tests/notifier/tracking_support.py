"""For the tests of tracking, receipts, unsubscribe, the inboxes and rules: the notifier's HTTP
side with those routers mounted, and rows (notifications, deliveries) arranged with SQL."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import asyncpg

from notifier.app import spec as notifier_spec
from notifier.rules.router import router as rules_router
from notifier.settings import NotifierSettings
from notifier.tracking.links import LinkSigner
from notifier.tracking.router import router as tracking_router
from shared.clock import Clock
from tests.support.running import Running, running

# The app may already mount these routers (app.py is someone else's); add only what is missing.
SPEC = dataclasses.replace(
    notifier_spec,
    routers=[
        *notifier_spec.routers,
        *(r for r in (tracking_router, rules_router) if r not in notifier_spec.routers),
    ],
)

STATUS_CHANGED = "notifier.notification_status_changed.v1"
SENT_AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@asynccontextmanager
async def tracking_api(clock: Clock | None = None, **settings: Any) -> AsyncIterator[Running]:
    """The HTTP side only (no relay, consumers, timers or workers), with settings overridden."""
    async with running(
        SPEC,
        clock=clock,
        ready=False,
        run_relay=False,
        run_consumers=False,
        run_timers=False,
        run_workers=False,
        **settings,
    ) as service:
        yield service


def signer_of(service: Running) -> LinkSigner:
    """A signer with the service's own settings: the links the dispatcher would write."""
    return LinkSigner(cast(NotifierSettings, service.runtime.settings))


async def add_notification(
    db: asyncpg.Connection,
    *,
    recipient: tuple[str, str] = ("candidate", "0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"),
    kind: str = "interview_invitation",
    status: str = "sent",
    application_id: uuid.UUID | None = None,
    job_id: uuid.UUID | None = None,
) -> uuid.UUID:
    notification_id = uuid.uuid4()
    candidate_id = uuid.UUID(recipient[1]) if recipient[0] == "candidate" else None
    await db.execute(
        "INSERT INTO notifier.notifications (id, kind, recipient_kind, recipient_id,"
        " candidate_id, application_id, job_id, status, data, source_event_id, first_sent_at,"
        " created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '{}'::jsonb, $9, $10, $10, $10)",
        notification_id,
        kind,
        recipient[0],
        recipient[1],
        candidate_id,
        application_id or uuid.uuid4(),
        job_id or uuid.uuid4(),
        status,
        uuid.uuid4(),
        SENT_AT,
    )
    return notification_id


async def add_delivery(
    db: asyncpg.Connection,
    notification_id: uuid.UUID,
    *,
    channel: str = "email",
    status: str = "sent",
    engagement: str = "none",
    subject: str | None = None,
    body: str | None = None,
    provider_message_id: str | None = None,
    created_at: datetime = SENT_AT,
) -> uuid.UUID:
    delivery_id = uuid.uuid4()
    sent = status in ("sent", "delivered")
    await db.execute(
        "INSERT INTO notifier.deliveries (id, notification_id, channel, status, engagement,"
        " provider_message_id, subject, body, sent_at, delivered_at, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        delivery_id,
        notification_id,
        channel,
        status,
        engagement,
        provider_message_id,
        subject,
        body,
        created_at if sent else None,
        created_at if status == "delivered" else None,
        created_at,
    )
    return delivery_id


async def sent_delivery(
    db: asyncpg.Connection,
    *,
    channel: str = "email",
    recipient: tuple[str, str] = ("candidate", "0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"),
    **fields: Any,
) -> tuple[uuid.UUID, uuid.UUID]:
    """A notification sent on one channel: ``(notification_id, delivery_id)``."""
    notification_id = await add_notification(db, recipient=recipient)
    delivery_id = await add_delivery(db, notification_id, channel=channel, **fields)
    return notification_id, delivery_id


async def delivery(db: asyncpg.Connection, delivery_id: uuid.UUID) -> asyncpg.Record:
    row = await db.fetchrow("SELECT * FROM notifier.deliveries WHERE id = $1", delivery_id)
    assert row is not None
    return row


async def notification_status(db: asyncpg.Connection, notification_id: uuid.UUID) -> str:
    status = await db.fetchval(
        "SELECT status FROM notifier.notifications WHERE id = $1", notification_id
    )
    return str(status)


async def status_changes(db: asyncpg.Connection) -> list[dict[str, Any]]:
    """The data of every ``notification_status_changed`` in the notifier's outbox, in order."""
    rows = await db.fetch(
        "SELECT payload FROM notifier.outbox WHERE event_type = $1 ORDER BY id", STATUS_CHANGED
    )
    return [json.loads(row["payload"])["data"] for row in rows]


async def delivery_events(db: asyncpg.Connection, delivery_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT type, value, source, provider_event_id, reason FROM notifier.delivery_events"
            " WHERE delivery_id = $1 ORDER BY id",
            delivery_id,
        )
    )


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)
