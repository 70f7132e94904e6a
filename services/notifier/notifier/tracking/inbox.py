"""The in-app inbox: a recipient's in-app deliveries that have been sent (the delivery row is the
inbox item, with the subject and body it was rendered with), and marking them seen or read.

Marks go through ``dispatch.lifecycle.apply`` like every other engagement, so they only move
forward, are recorded as delivery events (source ``inbox``) and announced as
``notification_status_changed``. Another recipient's item is simply not found.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.deliveries.models import Delivery
from notifier.dispatch.lifecycle import Change, apply
from notifier.notifications.models import Notification
from shared.http.pagination import PageParams, paginate
from shared.unit import UnitOfWork

SOURCE = "inbox"
# What an inbox shows: in-app deliveries that were "sent" (a queued one is not rendered yet, a
# cancelled or failed one never reached the inbox).
VISIBLE_STATUSES = ("sent", "delivered")
UNREAD = ("none", "seen")

_d = Delivery.__table__.c
_n = Notification.__table__.c

_COLUMNS = (
    _d.id,
    _d.notification_id,
    _n.kind,
    _d.subject,
    _d.body,
    _n.application_id,
    _n.job_id,
    _d.engagement,
    _d.delivered_at,
    _d.seen_at,
    _d.read_at,
    _d.created_at,
)


def _items(recipient: tuple[str, str]) -> sa.Select[Any]:
    kind, recipient_id = recipient
    return (
        sa.select(*_COLUMNS)
        .select_from(Delivery.__table__.join(Notification.__table__, _d.notification_id == _n.id))
        .where(
            _n.recipient_kind == kind,
            _n.recipient_id == recipient_id,
            _d.channel == "in_app",
            _d.status.in_(VISIBLE_STATUSES),
        )
    )


async def list_items(
    session: AsyncSession, *, recipient: tuple[str, str], params: PageParams, unread: bool
) -> tuple[list[sa.Row[Any]], str | None]:
    """The recipient's items, newest first; only those not read yet when ``unread``."""
    statement = _items(recipient)
    if unread:
        statement = statement.where(_d.engagement.in_(UNREAD))
    return await paginate(
        session, statement, order_by=[_d.created_at, _d.id], params=params, descending=True
    )


async def get_item(
    session: AsyncSession, *, recipient: tuple[str, str], delivery_id: uuid.UUID
) -> sa.Row[Any] | None:
    """One of the recipient's items; None when it is someone else's or not in an inbox."""
    result = await session.execute(_items(recipient).where(_d.id == delivery_id))
    row: sa.Row[Any] | None = result.first()
    return row


async def mark(
    unit: UnitOfWork,
    *,
    recipient: tuple[str, str],
    delivery_id: uuid.UUID,
    engagement: Literal["seen", "read"],
) -> sa.Row[Any] | None:
    """Mark one item seen or read and return it as it is now; None when the recipient has no
    such item. Marking it again, or seen after read, changes nothing."""
    if await get_item(unit.session, recipient=recipient, delivery_id=delivery_id) is None:
        return None
    change = Change(
        delivery_id=delivery_id,
        type="engagement",
        value=engagement,
        source=SOURCE,
        occurred_at=unit.clock.now(),
    )
    await apply(unit, [change])
    return await get_item(unit.session, recipient=recipient, delivery_id=delivery_id)


async def mark_all_read(unit: UnitOfWork, *, recipient: tuple[str, str]) -> int:
    """Mark every unread item read; how many were marked."""
    ids = await unit.session.scalars(
        _items(recipient)
        .with_only_columns(_d.id)
        .where(_d.engagement.in_(UNREAD))
        .order_by(_d.created_at, _d.id)
    )
    now = unit.clock.now()
    changes = [
        Change(
            delivery_id=delivery_id, type="engagement", value="read", source=SOURCE, occurred_at=now
        )
        for delivery_id in ids
    ]
    return await apply(unit, changes)
