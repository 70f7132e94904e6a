"""A delivery's status and engagement only move forward, each change is recorded once (a
provider's receipt by its own id) and announced as ``notification_status_changed``, and the
notification follows its deliveries.

Status order: queued < sending < sent < delivered, and the endings bounced, undelivered,
failed and cancelled, which nothing leaves. Engagement order: none < seen < read < clicked;
engagement proves delivery, so an open or a click marks a sent delivery delivered.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from notifier.deliveries.models import Delivery, DeliveryEvent, HeldReceipt
from notifier.notifications.models import Notification
from shared.events.notifier import NotificationStatusChangedV1
from shared.logging import get_logger
from shared.unit import UnitOfWork

log = get_logger(__name__)

STATUS_RANK = {
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "bounced": 4,
    "undelivered": 4,
    "failed": 4,
    "cancelled": 4,
}
ENGAGEMENT_RANK = {"none": 0, "seen": 1, "read": 2, "clicked": 3}
ENDINGS = frozenset({"bounced", "undelivered", "failed", "cancelled"})

_d = cast(sa.Table, Delivery.__table__).c
_n = cast(sa.Table, Notification.__table__).c
_deliveries = cast(sa.Table, Delivery.__table__)
_notifications = cast(sa.Table, Notification.__table__)
_events = cast(sa.Table, DeliveryEvent.__table__)
_held = cast(sa.Table, HeldReceipt.__table__)
# Ids as one array parameter (the dispatcher's too): one prepared statement whatever their
# number, where an IN list is a new statement, prepared again, for every count.
IDS = ARRAY(UUID(as_uuid=True))

# A provider's receipts are kept this long for a send not recorded yet (then housekeeping
# deletes them): far longer than a send takes to record, short enough to hold little.
RECEIPT_HOLD = timedelta(days=2)


def _rank_of(column: Any, ranks: dict[str, int]) -> sa.ColumnElement[int]:
    return sa.case(ranks, value=column, else_=0)


@dataclass(frozen=True)
class Change:
    delivery_id: uuid.UUID
    type: str  # status or engagement
    value: str
    source: str
    occurred_at: datetime
    provider_event_id: str | None = None
    reason: str | None = None
    provider_message_id: str | None = None


async def apply(unit: UnitOfWork, changes: list[Change]) -> int:
    """Apply the changes that move a delivery forward; the rest (stale, repeated, or about an
    unknown delivery) are ignored. Returns how many were applied.

    A provider's receipt is recorded first under its own id, so the same receipt twice counts
    once; a receipt that moves nothing (late, or after an ending) leaves no history. Status
    changes are applied together in a few statements; engagement one by one."""
    fresh: list[Change] = []
    receipts: dict[int, int] = {}  # id() of a receipt's change -> its history row
    for change in changes:
        if change.provider_event_id is not None:
            recorded = await unit.session.execute(
                pg_insert(_events)
                .values(_event_row(change, unit.clock.now()))
                .on_conflict_do_nothing(
                    index_elements=[_events.c.source, _events.c.provider_event_id],
                    index_where=_events.c.provider_event_id.is_not(None),
                )
                .returning(_events.c.id)
            )
            row_id = recorded.scalar_one_or_none()
            if row_id is None:
                log.info("delivery.receipt_repeated", source=change.source)
                continue
            receipts[id(change)] = row_id
        fresh.append(change)
    moved = await _apply_statuses(unit, [c for c in fresh if c.type == "status"], receipts)
    for change in fresh:
        if change.type != "engagement":
            continue
        row = await _engage(unit, change)
        if row is None:
            continue
        moved.add(id(change))
        if id(change) not in receipts:
            await unit.session.execute(
                sa.insert(_events).values(_event_row(change, unit.clock.now()))
            )
        await _announce(unit, row, change)
    unmoved = [row_id for key, row_id in receipts.items() if key not in moved]
    if unmoved:
        await unit.session.execute(sa.delete(_events).where(_events.c.id.in_(unmoved)))
    sent = [c.delivery_id for c in fresh if c.provider_message_id is not None]
    released = await _release_held(unit, sent) if sent else []
    return len(moved) + (await apply(unit, released) if released else 0)


# The receipts held for messages that deliveries now carry, taken out of the hold.
_RELEASE = (
    sa.delete(_held)
    .where(
        _held.c.channel == _d.channel,
        _held.c.provider_message_id == _d.provider_message_id,
        _d.id == sa.any_(sa.bindparam("ids", type_=sa.ARRAY(UUID(as_uuid=True)))),
    )
    .returning(
        _d.id,
        _held.c.source,
        _held.c.receipt_id,
        _held.c.status,
        _held.c.reason,
        _held.c.occurred_at,
    )
)


async def _release_held(unit: UnitOfWork, delivery_ids: list[uuid.UUID]) -> list[Change]:
    """The receipts that overtook these deliveries' sends (``HeldReceipt``), as changes, in the
    order they happened; they are no longer held."""
    rows = (await unit.session.execute(_RELEASE, {"ids": delivery_ids})).all()
    if rows:
        log.info("delivery.held_receipts_applied", count=len(rows))
    return [
        Change(
            delivery_id=row.id,
            type="status",
            value=row.status,
            source=row.source,
            occurred_at=row.occurred_at,
            provider_event_id=row.receipt_id,
            reason=row.reason,
        )
        for row in sorted(rows, key=lambda row: row.occurred_at)
    ]


# Built from constants only (the ranks above); every value is a bound parameter.
_MOVE_MANY = sa.text(
    f"""
    UPDATE {_deliveries.fullname} AS d SET
        status = v.status,
        updated_at = :now,
        lease_until = NULL,
        reason = CASE WHEN v.status IN ('sent', 'delivered') THEN NULL
                      WHEN v.status IN ('bounced', 'undelivered', 'failed', 'cancelled')
                      THEN v.reason ELSE d.reason END,
        sent_at = CASE WHEN v.status IN ('sent', 'delivered')
                       THEN coalesce(d.sent_at, v.at) ELSE d.sent_at END,
        delivered_at = CASE WHEN v.status = 'delivered' THEN v.at ELSE d.delivered_at END,
        next_attempt_at = CASE WHEN v.status IN ('bounced', 'undelivered', 'failed', 'cancelled')
                               THEN NULL ELSE d.next_attempt_at END,
        provider_message_id = coalesce(v.provider_message_id, d.provider_message_id)
    FROM unnest(
        CAST(:ids AS uuid[]), CAST(:statuses AS text[]), CAST(:ranks AS int[]),
        CAST(:ats AS timestamptz[]), CAST(:reasons AS text[]),
        CAST(:provider_message_ids AS text[])
    ) AS v(id, status, rank, at, reason, provider_message_id)
    WHERE d.id = v.id
      AND (CASE d.status {" ".join(f"WHEN '{k}' THEN {r}" for k, r in STATUS_RANK.items())}
           ELSE 0 END) < v.rank
    RETURNING d.id, d.notification_id, d.channel, d.status, d.engagement, d.reason
    """  # noqa: S608
).columns(
    sa.column("id", UUID(as_uuid=True)),
    sa.column("notification_id", UUID(as_uuid=True)),
    sa.column("channel", sa.Text),
    sa.column("status", sa.Text),
    sa.column("engagement", sa.Text),
    sa.column("reason", sa.Text),
)


async def _apply_statuses(
    unit: UnitOfWork, changes: list[Change], receipts: dict[int, int]
) -> set[int]:
    """Status changes of many deliveries in one UPDATE (a delivery named twice is moved in a
    second round, so its changes apply in order), then their history (receipts have theirs
    already), their notifications and their events in one statement each. Returns the
    ``id()`` of each change that moved its delivery."""
    if not changes:
        return set()
    now = unit.clock.now()
    rounds: list[list[Change]] = []
    seen: dict[uuid.UUID, int] = {}
    for change in changes:
        index = seen.get(change.delivery_id, -1) + 1
        seen[change.delivery_id] = index
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(change)
    moved: list[tuple[Any, Change]] = []
    for batch in rounds:
        by_id = {change.delivery_id: change for change in batch}
        result = await unit.session.execute(
            _MOVE_MANY,
            {
                "now": now,
                "ids": [c.delivery_id for c in batch],
                "statuses": [c.value for c in batch],
                "ranks": [STATUS_RANK[c.value] for c in batch],
                "ats": [c.occurred_at for c in batch],
                "reasons": [c.reason for c in batch],
                "provider_message_ids": [c.provider_message_id for c in batch],
            },
        )
        moved.extend((row, by_id[row.id]) for row in result)
    if not moved:
        return set()
    history = [_event_row(change, now) for _, change in moved if id(change) not in receipts]
    if history:
        await unit.session.execute(sa.insert(_events), history)
    notification_ids = list({row.notification_id for row, _ in moved})
    notifications = {
        row.id: row
        for row in await unit.session.execute(
            sa.select(
                _n.id,
                _n.kind,
                _n.recipient_kind,
                _n.recipient_id,
                _n.application_id,
                _n.job_id,
                _n.candidate_id,
                _n.status,
            ).where(_n.id == sa.any_(sa.bindparam("ids", notification_ids, type_=IDS)))
        )
    }
    reached = [
        row.notification_id
        for row, change in moved
        if change.value in ("sent", "delivered")
        and notifications[row.notification_id].status == "pending"
    ]
    if reached:
        await unit.session.execute(
            sa.update(_notifications)
            .where(
                _n.id == sa.any_(sa.bindparam("ids", list(set(reached)), type_=IDS)),
                _n.status == "pending",
            )
            .values(status="sent", first_sent_at=now, updated_at=now)
        )
    for row, change in moved:
        if change.value in ENDINGS:
            await _follow_deliveries(unit, notifications[row.notification_id], change)
    await unit.emit_many(
        [
            (
                _status_event(notifications[row.notification_id], row, change),
                str(row.notification_id),
                None,
            )
            for row, change in moved
        ]
    )
    return {id(change) for _, change in moved}


def _event_row(change: Change, now: datetime) -> dict[str, Any]:
    return {
        "delivery_id": change.delivery_id,
        "type": change.type,
        "value": change.value,
        "source": change.source,
        "provider_event_id": change.provider_event_id,
        "reason": change.reason,
        "occurred_at": change.occurred_at,
        "recorded_at": now,
    }


_RETURNING = (
    _d.id,
    _d.notification_id,
    _d.channel,
    _d.status,
    _d.engagement,
    _d.reason,
)


async def _engage(unit: UnitOfWork, change: Change) -> sa.Row[Any] | None:
    rank = ENGAGEMENT_RANK[change.value]
    column = {"seen": "seen_at", "read": "read_at", "clicked": "clicked_at"}[change.value]
    values: dict[str, Any] = {
        "engagement": change.value,
        column: change.occurred_at,
        "updated_at": unit.clock.now(),
        # An open or a click proves the message arrived.
        "status": sa.case((_d.status == "sent", "delivered"), else_=_d.status),
        "delivered_at": sa.func.coalesce(_d.delivered_at, change.occurred_at),
    }
    result = await unit.session.execute(
        sa.update(_deliveries)
        .where(
            _d.id == change.delivery_id,
            _rank_of(_d.engagement, ENGAGEMENT_RANK) < rank,
            _d.status.in_(("sent", "delivered")),
        )
        .values(values)
        .returning(*_RETURNING)
    )
    row = result.first()
    if row is not None:
        await unit.session.execute(
            sa.update(_notifications)
            .where(_n.id == row.notification_id, _n.status.in_(("pending", "sent", "unread")))
            .values(status="engaged", engaged_at=change.occurred_at, updated_at=unit.clock.now())
        )
    return row


async def _announce(unit: UnitOfWork, row: sa.Row[Any], change: Change) -> None:
    notification = (
        await unit.session.execute(
            sa.select(
                _n.id,
                _n.kind,
                _n.recipient_kind,
                _n.recipient_id,
                _n.application_id,
                _n.job_id,
                _n.candidate_id,
                _n.status,
            ).where(_n.id == row.notification_id)
        )
    ).one()
    if change.type == "status":
        await _follow_deliveries(unit, notification, change)
    await unit.emit(_status_event(notification, row, change), subject=str(notification.id))


def _status_event(notification: Any, row: Any, change: Change) -> NotificationStatusChangedV1:
    return NotificationStatusChangedV1(
        notification_id=notification.id,
        delivery_id=row.id,
        kind=notification.kind,
        channel=row.channel,
        recipient_kind=notification.recipient_kind,
        recipient_id=notification.recipient_id,
        application_id=notification.application_id,
        job_id=notification.job_id,
        candidate_id=notification.candidate_id,
        status=row.status,
        engagement=row.engagement,
        reason=row.reason if row.status in ENDINGS else None,
        occurred_at=change.occurred_at,
    )


async def _follow_deliveries(unit: UnitOfWork, notification: Any, change: Change) -> None:
    """pending -> sent on the first sent delivery; -> failed when every delivery ended without
    reaching anyone."""
    now = unit.clock.now()
    if change.value in ("sent", "delivered") and notification.status == "pending":
        await unit.session.execute(
            sa.update(_notifications)
            .where(_n.id == notification.id, _n.status == "pending")
            .values(status="sent", first_sent_at=change.occurred_at, updated_at=now)
        )
    elif change.value in ENDINGS and notification.status == "pending":
        open_ones = await unit.session.scalar(
            sa.select(sa.func.count()).where(
                _d.notification_id == notification.id, _d.status.not_in(tuple(ENDINGS))
            )
        )
        if not open_ones:
            await unit.session.execute(
                sa.update(_notifications)
                .where(_n.id == notification.id, _n.status == "pending")
                .values(status="failed", reason=change.reason, updated_at=now)
            )
