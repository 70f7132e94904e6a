"""From what an event calls for to notifications and their deliveries, in the consumer's
transaction: rules choose the channels, preferences remove what the recipient muted or
unsubscribed from, quiet hours and the throttle set when each delivery may go, and fallback
timers are set for what must be read.

A notification is unique per (source event, kind, recipient) and a delivery per
(notification, channel), so an event handled twice owes nothing new.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from notifier.deliveries.models import Delivery
from notifier.dispatch.events import Owed
from notifier.dispatch.quiet import quiet_until
from notifier.endpoints.service import endpoints_for_kind
from notifier.jobs.service import jobs_by_id
from notifier.notifications.models import Notification
from notifier.recipients.service import Preferences, preferences_for
from notifier.robots.service import robots_for_job
from notifier.rules.models import Rule
from notifier.rules.service import rules_for
from notifier.settings import NotifierSettings
from shared.crypto import Keyring
from shared.unit import UnitOfWork

FALLBACK_TIMER = "notification.fallback"
DISPATCH_CHANNEL = "notifier_dispatch"
# Kinds whose wording varies with how many the recipient already got today.
VARYING_KINDS = frozenset({"interview_reminder", "invitation_reminder"})
PERSON_KINDS = frozenset({"candidate", "staff", "interviewer"})

_notifications = cast(sa.Table, Notification.__table__)
_deliveries = cast(sa.Table, Delivery.__table__)
# Built once and given the rows as parameters: SQLAlchemy compiles them once and sends each
# batch as one multi-row statement; a ``.values(rows)`` statement is compiled again for every
# batch, which cost more CPU than planning it.
_INSERT_NOTIFICATIONS = (
    pg_insert(_notifications).on_conflict_do_nothing().returning(_notifications.c.id)
)
_INSERT_DELIVERIES = pg_insert(_deliveries)


@dataclass
class _Planned:
    notification: dict[str, Any]
    channels: list[str]
    rule: Rule | None


def _recipients_of(owed: Owed, owners: list[str]) -> list[tuple[str, str]]:
    if owed.recipients is not None:
        return list(dict.fromkeys(owed.recipients))
    if owed.audience == "candidate":
        return [("candidate", str(owed.candidate_id))] if owed.candidate_id else []
    if owed.audience == "interviewers":
        if owed.interviewer_subjects:
            return [("staff", subject) for subject in dict.fromkeys(owed.interviewer_subjects)]
        return [("interviewer", str(i)) for i in dict.fromkeys(owed.interviewer_ids)]
    return [("staff", owner) for owner in owners]


@dataclass(frozen=True)
class EventOwes:
    """What one event calls for: the notifications ``owed``, keyed by the event's id."""

    source_event_id: uuid.UUID
    source_event_type: str
    owed: Sequence[Owed]


async def owe(
    unit: UnitOfWork,
    *,
    source_event_id: uuid.UUID,
    source_event_type: str,
    owed: Sequence[Owed],
    settings: NotifierSettings,
    keyring: Keyring,
) -> int:
    """Record the notifications and deliveries ``owed`` calls for; the number of new
    notifications."""
    return await owe_many(
        unit,
        [EventOwes(source_event_id, source_event_type, owed)],
        settings=settings,
        keyring=keyring,
    )


async def owe_many(
    unit: UnitOfWork,
    events: Sequence[EventOwes],
    *,
    settings: NotifierSettings,
    keyring: Keyring,
) -> int:
    """``owe`` for a consumer batch of events: the rules, owners, robots, endpoints,
    preferences and recent counts of all of them are read in a few queries, and their
    notifications and deliveries written in one statement each."""
    items = [(event, item) for event in events for item in event.owed]
    if not items:
        return 0
    session = unit.session
    now = unit.clock.now()
    rules = await rules_for(session, list({(o.kind, o.audience) for _, o in items}))
    # Owners are needed only for HR notices that name nobody.
    jobs = await jobs_by_id(
        session,
        list(
            {o.job_id for _, o in items if o.job_id and o.audience == "hr" and o.recipients is None}
        ),
    )
    robots: dict[uuid.UUID | None, list[Any]] = {}
    endpoints: dict[str, list[Any]] = {}
    endpoints_owed: set[tuple[uuid.UUID, str]] = set()
    planned: list[_Planned] = []
    for event, item in items:
        rule = rules.get((item.kind, item.audience))
        if rule is None:
            continue
        job = jobs.get(item.job_id) if item.job_id else None
        base = {
            "kind": item.kind,
            "candidate_id": item.candidate_id,
            "application_id": item.application_id,
            "job_id": item.job_id,
            "urgent": rule.urgent,
            "data": item.variables,
            "source_event_id": event.source_event_id,
            "source_event_type": event.source_event_type,
        }
        person_channels = [channel for channel in rule.channels if channel != "chat"]
        if person_channels:
            for recipient in _recipients_of(item, list(job.owner_ids) if job else []):
                planned.append(_Planned(_row(base, recipient, now), person_channels, rule))
        if "chat" in rule.channels and item.audience != "candidate":
            if item.job_id not in robots:
                robots[item.job_id] = await robots_for_job(session, keyring, item.job_id)
            for robot in robots[item.job_id]:
                planned.append(_Planned(_row(base, ("robot", str(robot.id)), now), ["chat"], rule))
        # Customers' endpoints get each kind once per event.
        if item.kind not in endpoints:
            endpoints[item.kind] = await endpoints_for_kind(session, keyring, item.kind)
        if (event.source_event_id, item.kind) not in endpoints_owed:
            endpoints_owed.add((event.source_event_id, item.kind))
            for endpoint in endpoints[item.kind]:
                recipient = ("endpoint", str(endpoint.id))
                planned.append(_Planned(_row(base, recipient, now), ["webhook"], None))
    if not planned:
        return 0

    people = list(
        dict.fromkeys(
            (p.notification["recipient_kind"], p.notification["recipient_id"])
            for p in planned
            if p.notification["recipient_kind"] in PERSON_KINDS
        )
    )
    preferences = await preferences_for(session, people)
    await _add_variants(unit, planned, settings)
    inserted = await session.execute(_INSERT_NOTIFICATIONS, [p.notification for p in planned])
    new_ids = {row.id for row in inserted}
    fresh = [p for p in planned if p.notification["id"] in new_ids]
    if not fresh:
        return 0
    await _lock_throttled(unit, people)
    recent = await _recent_counts(unit, people, now)
    delivery_rows: list[dict[str, Any]] = []
    timers: list[dict[str, Any]] = []
    suppressed: dict[uuid.UUID, str] = {}
    for p in fresh:
        n = p.notification
        key = (n["recipient_kind"], n["recipient_id"])
        prefs = preferences.get(key)
        channels, why_not = _allowed_channels(p.channels, n["kind"], prefs)
        if not channels:
            suppressed[n["id"]] = why_not or "no channel"
            continue
        first_due = None
        for channel in channels:
            due, reason = _when(channel, n["urgent"], prefs, recent, key, now, settings)
            first_due = due if first_due is None else min(first_due, due)
            delivery_rows.append(
                {
                    "id": uuid.uuid4(),
                    "notification_id": n["id"],
                    "channel": channel,
                    "step": 0,
                    "status": "queued",
                    "next_attempt_at": due,
                    "reason": reason,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        counted = [c for c in channels if c != "in_app"]
        if counted and not n["urgent"] and key[0] in PERSON_KINDS:
            # The later notifications of a batch count this one against the throttle.
            count, oldest = recent.get(key, (0, now))
            recent[key] = (count + len(counted), oldest)
        if p.rule is not None and first_due is not None:
            for index, step in enumerate(p.rule.fallback):
                timers.append(
                    {
                        "kind": FALLBACK_TIMER,
                        "key": f"{n['id']}:{index + 1}",
                        "due_at": first_due + timedelta(minutes=int(step["after_minutes"])),
                        "payload": {"notification_id": str(n["id"]), "step": index + 1},
                    }
                )
    if delivery_rows:
        await session.execute(_INSERT_DELIVERIES, delivery_rows)
        if not session.info.get(DISPATCH_CHANNEL):
            # Once per transaction (a consumer batch plans many events in one): the
            # dispatchers wake when it commits.
            session.info[DISPATCH_CHANNEL] = True
            await session.execute(sa.select(sa.func.pg_notify(DISPATCH_CHANNEL, "")))
    if suppressed:
        for notification_id, reason in suppressed.items():
            await session.execute(
                sa.update(_notifications)
                .where(_notifications.c.id == notification_id)
                .values(status="suppressed", reason=reason)
            )
    await unit.timers.schedule_many(session, timers)
    return len(fresh)


def _row(base: dict[str, Any], recipient: tuple[str, str], now: datetime) -> dict[str, Any]:
    return {
        **base,
        "id": uuid.uuid4(),
        "recipient_kind": recipient[0],
        "recipient_id": recipient[1],
        "status": "pending",
        "locale": "zh-CN",
        "created_at": now,
        "updated_at": now,
    }


def _allowed_channels(
    channels: list[str], kind: str, prefs: Preferences | None
) -> tuple[list[str], str | None]:
    """The rule's channels minus what the recipient muted; unsubscribing (from this kind or
    from everything) leaves only the in-app inbox, which never interrupts anyone."""
    if prefs is None:
        return channels, None
    allowed = [channel for channel in channels if channel not in prefs.muted_channels]
    if prefs.unsubscribed_all or kind in prefs.unsubscribed_kinds:
        allowed = [channel for channel in allowed if channel == "in_app"]
        return allowed, "unsubscribed"
    return allowed, "muted" if not allowed else None


def _when(
    channel: str,
    urgent: bool,
    prefs: Preferences | None,
    recent: dict[tuple[str, str], tuple[int, datetime]],
    recipient: tuple[str, str],
    now: datetime,
    settings: NotifierSettings,
) -> tuple[datetime, str | None]:
    """When a delivery may go, and why it waits: the in-app inbox and urgent kinds go at once;
    the rest wait for the end of quiet hours and for room under the throttle."""
    if channel == "in_app" or urgent or recipient[0] not in PERSON_KINDS:
        return now, None
    due, reason = now, None
    count, oldest = recent.get(recipient, (0, now))
    if count >= settings.throttle_per_hour:
        due, reason = oldest + timedelta(hours=1), "throttle"
    start, end, zone = _quiet_hours(prefs, settings)
    if start is not None and end is not None:
        until = quiet_until(due, start=start, end=end, time_zone=zone)
        if until is not None:
            due, reason = until, "quiet_hours"
    return due, reason


def _quiet_hours(
    prefs: Preferences | None, settings: NotifierSettings
) -> tuple[time | None, time | None, str]:
    zone = (prefs.time_zone if prefs else None) or settings.default_time_zone
    if prefs is not None and prefs.quiet_start is not None:
        return prefs.quiet_start, prefs.quiet_end, zone
    return settings.default_quiet_start, settings.default_quiet_end, zone


async def _lock_throttled(unit: UnitOfWork, people: list[tuple[str, str]]) -> None:
    """Serialize planning for the same people: consumer workers plan batches in parallel, and
    without this two batches would each count the other's messages as not there yet and let
    both through the throttle. Transaction-scoped locks, taken in one order (no deadlock)."""
    if not people:
        return
    keys = sorted({_lock_key(kind, recipient_id) for kind, recipient_id in people})
    await unit.session.execute(
        sa.text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
        {"keys": keys},
    )


def _lock_key(kind: str, recipient_id: str) -> int:
    digest = hashlib.blake2b(f"notifier.throttle:{kind}:{recipient_id}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


async def _recent_counts(
    unit: UnitOfWork, people: list[tuple[str, str]], now: datetime
) -> dict[tuple[str, str], tuple[int, datetime]]:
    """Per recipient, the non-urgent messages (not in-app) of the last hour and the oldest."""
    if not people:
        return {}
    n, d = _notifications.c, _deliveries.c
    rows = await unit.session.execute(
        sa.select(n.recipient_kind, n.recipient_id, sa.func.count(), sa.func.min(d.created_at))
        .select_from(_deliveries.join(_notifications, d.notification_id == n.id))
        .where(
            sa.tuple_(n.recipient_kind, n.recipient_id).in_(people),
            d.channel != "in_app",
            n.urgent.is_(False),
            d.created_at > now - timedelta(hours=1),
            d.status != "cancelled",
        )
        .group_by(n.recipient_kind, n.recipient_id)
    )
    return {(row[0], row[1]): (row[2], row[3]) for row in rows}


async def _add_variants(
    unit: UnitOfWork, planned: list[_Planned], settings: NotifierSettings
) -> None:
    """Number the varying kinds per recipient and day (in the default zone), so that two
    reminders to one person on one day are worded differently."""
    varying = [p for p in planned if p.notification["kind"] in VARYING_KINDS]
    if not varying:
        return
    n = _notifications.c
    now = unit.clock.now()
    local = now.astimezone(ZoneInfo(settings.default_time_zone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    people = list(
        dict.fromkeys(
            (p.notification["recipient_kind"], p.notification["recipient_id"]) for p in varying
        )
    )
    rows = await unit.session.execute(
        sa.select(n.recipient_kind, n.recipient_id, sa.func.count())
        .where(
            sa.tuple_(n.recipient_kind, n.recipient_id).in_(people),
            n.kind.in_(VARYING_KINDS),
            n.created_at >= midnight,
        )
        .group_by(n.recipient_kind, n.recipient_id)
    )
    today: dict[tuple[str, str], int] = {(row[0], row[1]): int(row[2]) for row in rows}
    for p in varying:
        key = (p.notification["recipient_kind"], p.notification["recipient_id"])
        count = today.get(key, 0)
        today[key] = count + 1  # the next one of this batch to the same person
        p.notification["data"] = {**p.notification["data"], "variant": count}
