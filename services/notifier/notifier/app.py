"""The notifier service's spec and app factory."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import sqlalchemy as sa
from fastapi import FastAPI

import notifier.erasure  # its handler of erasure_requested
import notifier.models  # noqa: F401  (every table in the metadata)
from notifier.consumers import handlers
from notifier.db import infra, metadata
from notifier.deliveries.models import HeldReceipt
from notifier.deliveries.router import router as deliveries_router
from notifier.dispatch.dispatcher import dispatcher
from notifier.dispatch.fallback import timer_handlers
from notifier.dispatch.lifecycle import RECEIPT_HOLD
from notifier.endpoints import service as endpoints_service
from notifier.endpoints.router import router as endpoints_router
from notifier.notifications.router import router as notifications_router
from notifier.recipients import service as recipients_service
from notifier.recipients.router import router as recipients_router
from notifier.robots import service as robots_service
from notifier.robots.router import router as robots_router
from notifier.rules.router import router as rules_router
from notifier.settings import NotifierSettings
from notifier.templates.router import router as templates_router
from notifier.tracking.router import router as tracking_router
from shared.clock import Clock
from shared.housekeeping import Retention
from shared.http.app import create_app
from shared.key_rotation import KeyRotation
from shared.service import ServiceSpec

spec = ServiceSpec(
    name="notifier",
    title="Recruiting notifier",
    description=(
        "Templated messages to candidates, HR and interviewers over email, SMS, the in-app "
        "inbox, chat robots and signed webhooks: tracked, falling back to another channel when "
        "unread, held in quiet hours, and never sent twice."
    ),
    version="0.1.0",
    settings_class=NotifierSettings,
    metadata=metadata,
    infra=infra,
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[
        notifications_router,
        deliveries_router,
        tracking_router,
        templates_router,
        rules_router,
        recipients_router,
        robots_router,
        endpoints_router,
    ],
    handlers=handlers,
    timer_handlers=timer_handlers,
    workers=[dispatcher],
    retention=[Retention(cast(sa.Table, HeldReceipt.__table__), "received_at", RECEIPT_HOLD)],
    key_rotations=[
        KeyRotation("recipients", recipients_service.rotate_keys),
        KeyRotation("chat_robots", robots_service.rotate_keys),
        KeyRotation("webhook_endpoints", endpoints_service.rotate_keys),
    ],
    openapi_tags=[
        {"name": "notifications", "description": "What is owed to whom, and how it went."},
        {"name": "deliveries", "description": "Each notification on each channel; resend, stats."},
        {"name": "inbox", "description": "The in-app inbox of staff and candidates."},
        {"name": "tracking", "description": "Opens, clicks, receipts and unsubscribing."},
        {"name": "templates", "description": "Message templates and their versions."},
        {"name": "rules", "description": "Who is told what, on which channels, with fallbacks."},
        {"name": "recipients", "description": "Contacts and preferences of recipients."},
        {"name": "chat robots", "description": "DingTalk and WeCom group robots."},
        {"name": "webhook endpoints", "description": "Customers' endpoints for signed webhooks."},
    ],
)


def create(settings: NotifierSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_app(spec, settings, clock=clock)
