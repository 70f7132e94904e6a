"""Reading deliveries for HR and admins (HR see those of the jobs they own and their own),
resending one, and per-channel statistics."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.deliveries.models import Delivery, DeliveryEvent
from notifier.deliveries.schemas import ChannelStats
from notifier.dispatch.planner import DISPATCH_CHANNEL
from notifier.jobs.models import Job
from notifier.notifications.models import Notification
from shared.auth.principal import Principal
from shared.http.pagination import PageParams, paginate
from shared.problems import Problem, not_found
from shared.unit import UnitOfWork

_d = cast(sa.Table, Delivery.__table__).c
_n = cast(sa.Table, Notification.__table__).c
_j = cast(sa.Table, Job.__table__).c

COLUMNS = (
    *[column for column in _d if column.name not in ("subject", "body", "detail")],
    _n.kind,
    _n.recipient_kind,
    _n.recipient_id,
    _n.application_id,
    _n.job_id,
)
_FROM = cast(sa.Table, Delivery.__table__).join(
    cast(sa.Table, Notification.__table__), _d.notification_id == _n.id
)


def visible_to(principal: Principal) -> sa.ColumnElement[bool]:
    """What a principal may see: everything for admins; for HR, the notifications of jobs they
    own and those addressed to themselves."""
    if principal.is_admin:
        return sa.true()
    owned = sa.select(_j.id).where(_j.owner_ids.contains([principal.subject]))
    return sa.or_(
        _n.job_id.in_(owned),
        sa.and_(_n.recipient_kind == "staff", _n.recipient_id == principal.subject),
    )


async def list_deliveries(
    session: AsyncSession,
    *,
    principal: Principal,
    params: PageParams,
    filters: dict[str, Any],
) -> tuple[list[Any], str | None]:
    statement = sa.select(*COLUMNS).select_from(_FROM).where(visible_to(principal))
    for name in ("recipient_kind", "recipient_id", "application_id", "job_id", "kind"):
        if filters.get(name) is not None:
            statement = statement.where(_n[name] == filters[name])
    for name in ("status", "channel", "engagement"):
        if filters.get(name) is not None:
            statement = statement.where(_d[name] == filters[name])
    return await paginate(
        session, statement, order_by=[_d.created_at, _d.id], params=params, descending=True
    )


async def get_delivery(
    session: AsyncSession, *, principal: Principal, delivery_id: uuid.UUID
) -> tuple[Any, list[Any]]:
    row = (
        await session.execute(
            sa.select(*COLUMNS)
            .select_from(_FROM)
            .where(_d.id == delivery_id, visible_to(principal))
        )
    ).first()
    if row is None:
        raise not_found("delivery", delivery_id)
    events = (
        await session.execute(
            sa.select(cast(sa.Table, DeliveryEvent.__table__))
            .where(DeliveryEvent.delivery_id == delivery_id)
            .order_by(DeliveryEvent.occurred_at, DeliveryEvent.id)
        )
    ).all()
    return row, list(events)


async def resend(
    unit: UnitOfWork, *, principal: Principal, delivery_id: uuid.UUID, channel: str | None
) -> uuid.UUID:
    """A new notification with the same kind, recipient and variables, on one channel: the
    original keeps its history (status only moves forward), and the copy is sent at once (a
    person asked for it, so quiet hours and the throttle do not hold it)."""
    original, _ = await get_delivery(unit.session, principal=principal, delivery_id=delivery_id)
    target = channel or original.channel
    if target == "webhook" and original.recipient_kind != "endpoint":
        raise Problem(
            422,
            "Not resendable",
            "Only an endpoint's delivery can go by webhook.",
            slug="channel-not-allowed",
        )
    if original.recipient_kind == "endpoint" and target != "webhook":
        raise Problem(
            422, "Not resendable", "An endpoint receives webhooks only.", slug="channel-not-allowed"
        )
    if original.recipient_kind == "robot" and target != "chat":
        raise Problem(
            422,
            "Not resendable",
            "A chat robot receives chat messages only.",
            slug="channel-not-allowed",
        )
    if original.recipient_kind == "candidate" and target == "chat":
        raise Problem(
            422, "Not resendable", "Candidates are not in chat groups.", slug="channel-not-allowed"
        )
    source = await unit.session.get_one(Notification, original.notification_id)
    now = unit.clock.now()
    notification_id = uuid.uuid4()
    unit.session.add(
        Notification(
            id=notification_id,
            kind=source.kind,
            recipient_kind=source.recipient_kind,
            recipient_id=source.recipient_id,
            candidate_id=source.candidate_id,
            application_id=source.application_id,
            job_id=source.job_id,
            status="pending",
            locale=source.locale,
            urgent=True,
            data=source.data,
            source_event_id=uuid.uuid4(),
            source_event_type="resend",
            reason=f"resent by {principal.role.value}",
            created_at=now,
            updated_at=now,
        )
    )
    await unit.session.flush()
    delivery = Delivery(
        id=uuid.uuid4(),
        notification_id=notification_id,
        channel=target,
        step=0,
        status="queued",
        next_attempt_at=now,
        reason="resend",
        created_at=now,
        updated_at=now,
    )
    unit.session.add(delivery)
    await unit.session.flush()
    await unit.session.execute(sa.select(sa.func.pg_notify(DISPATCH_CHANNEL, "")))
    return delivery.id


async def stats(
    session: AsyncSession,
    *,
    principal: Principal,
    since: datetime,
    until: datetime,
    kind: str | None,
) -> list[ChannelStats]:
    conditions = [visible_to(principal), _d.created_at >= since, _d.created_at < until]
    if kind is not None:
        conditions.append(_n.kind == kind)
    rows = (
        await session.execute(
            sa.select(_d.channel, _d.status, _d.engagement, _d.reason, sa.func.count())
            .select_from(_FROM)
            .where(*conditions)
            .group_by(_d.channel, _d.status, _d.engagement, _d.reason)
        )
    ).all()
    by_channel: dict[str, dict[str, Counter[str]]] = {}
    for channel, status, engagement, reason, count in rows:
        counters = by_channel.setdefault(
            channel, {"status": Counter(), "engagement": Counter(), "reasons": Counter()}
        )
        counters["status"][status] += count
        counters["engagement"][engagement] += count
        if status in ("failed", "bounced", "undelivered") and reason:
            counters["reasons"][reason] += count
    result: list[ChannelStats] = []
    for channel in sorted(by_channel):
        counters = by_channel[channel]
        status, engagement = counters["status"], counters["engagement"]
        delivered = status["delivered"]
        settled = (
            delivered
            + status["sent"]
            + status["failed"]
            + status["bounced"]
            + status["undelivered"]
        )
        read = engagement["read"] + engagement["clicked"]
        result.append(
            ChannelStats(
                channel=channel,
                total=sum(status.values()),
                by_status=dict(status),
                by_engagement=dict(engagement),
                delivery_rate=round(delivered / settled, 4) if settled else None,
                read_rate=round(read / delivered, 4) if delivered else None,
                failed_reasons=dict(counters["reasons"].most_common(10)),
            )
        )
    return result
