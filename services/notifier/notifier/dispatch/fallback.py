"""Fallback when unread: each step of a rule's fallback is a durable timer set when the
notification was planned. When it fires and nobody has seen, read or clicked the notification
on any channel, the step's channels get a delivery of their own (the dispatcher checks once
more just before sending it), or HR are asked to follow up in person.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from notifier.deliveries.models import Delivery
from notifier.dispatch import planner
from notifier.dispatch.context import keyring_of, settings_of
from notifier.dispatch.events import Owed
from notifier.jobs.service import jobs_by_id
from notifier.notifications.models import Notification
from notifier.recipients.service import preferences_for
from notifier.rules.service import get_rule
from shared.events.notifier import NotificationUnreadV1
from shared.logging import get_logger
from shared.timers import DueTimer, TimerHandlers
from shared.unit import UnitOfWork

log = get_logger(__name__)

timer_handlers = TimerHandlers()

_n = cast(sa.Table, Notification.__table__).c
_d = cast(sa.Table, Delivery.__table__).c


@timer_handlers.on(planner.FALLBACK_TIMER)
async def fall_back(unit: UnitOfWork, timer: DueTimer) -> None:
    notification_id = uuid.UUID(timer.payload["notification_id"])
    step_number = int(timer.payload["step"])
    notification = await unit.session.get(Notification, notification_id)
    if notification is None or notification.status not in ("pending", "sent", "failed"):
        return  # engaged (read), suppressed, or already handed to HR
    audience = (
        "candidate"
        if notification.recipient_kind == "candidate"
        else ("interviewers" if notification.recipient_kind == "interviewer" else "hr")
    )
    rule = await get_rule(unit.session, notification.kind, audience)
    if rule is None or step_number > len(rule.fallback):
        return
    step: dict[str, Any] = rule.fallback[step_number - 1]
    if step.get("action") == "hr_follow_up":
        await _hand_to_hr(unit, notification)
        return
    await _deliver_on(unit, notification, step_number, list(step.get("channels", [])))


async def _deliver_on(
    unit: UnitOfWork, notification: Notification, step: int, channels: list[str]
) -> None:
    """A delivery on each of the step's channels not tried yet and not muted."""
    tried = set(
        await unit.session.scalars(
            sa.select(_d.channel).where(_d.notification_id == notification.id)
        )
    )
    recipient = (notification.recipient_kind, notification.recipient_id)
    prefs = (await preferences_for(unit.session, [recipient])).get(recipient)
    muted = prefs.muted_channels if prefs else frozenset()
    if prefs is not None and (
        prefs.unsubscribed_all or notification.kind in prefs.unsubscribed_kinds
    ):
        return
    now = unit.clock.now()
    rows = [
        {
            "id": uuid.uuid4(),
            "notification_id": notification.id,
            "channel": channel,
            "step": step,
            "status": "queued",
            "next_attempt_at": now,
            "reason": "fallback",
            "created_at": now,
            "updated_at": now,
        }
        for channel in channels
        if channel not in tried and channel not in muted
    ]
    if not rows:
        return
    await unit.session.execute(
        pg_insert(cast(sa.Table, Delivery.__table__)).values(rows).on_conflict_do_nothing()
    )
    await unit.session.execute(sa.select(sa.func.pg_notify(planner.DISPATCH_CHANNEL, "")))


async def _hand_to_hr(unit: UnitOfWork, notification: Notification) -> None:
    """Nobody read it anywhere: mark it unread, announce ``notification_unread`` and tell the
    job's HR owners (a notice of its own, so the rules and channels of HR apply)."""
    now = unit.clock.now()
    notification.status = "unread"
    notification.updated_at = now
    channels = list(
        await unit.session.scalars(
            sa.select(_d.channel)
            .where(_d.notification_id == notification.id, _d.status.in_(("sent", "delivered")))
            .order_by(_d.created_at)
        )
    )
    jobs = await jobs_by_id(unit.session, [notification.job_id] if notification.job_id else [])
    job = jobs.get(notification.job_id) if notification.job_id else None
    owners = list(job.owner_ids) if job else []
    event = await unit.emit(
        NotificationUnreadV1(
            notification_id=notification.id,
            kind=notification.kind,
            recipient_kind=notification.recipient_kind,
            recipient_id=notification.recipient_id,
            application_id=notification.application_id,
            job_id=notification.job_id,
            candidate_id=notification.candidate_id,
            owner_ids=owners,
            channels_tried=channels,
            first_sent_at=notification.first_sent_at,
            occurred_at=now,
        ),
        subject=str(notification.id),
    )
    settings = settings_of(unit)
    await planner.owe(
        unit,
        source_event_id=event.id,
        source_event_type=event.type,
        owed=[
            Owed(
                "unread_follow_up",
                "hr",
                {"unread_kind": notification.kind, "channels_tried": channels},
                application_id=notification.application_id,
                job_id=notification.job_id,
                candidate_id=notification.candidate_id,
            )
        ],
        settings=settings,
        keyring=keyring_of(settings),
    )
    log.info("notification.unread", kind=notification.kind, channels=len(channels))
