"""Notifications: listing what is owed to whom, for HR (their jobs' and their own) and admins."""

from __future__ import annotations

import uuid
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.deliveries.models import Delivery
from notifier.deliveries.service import COLUMNS, visible_to
from notifier.notifications.models import Notification
from shared.auth.principal import Principal
from shared.http.pagination import PageParams, paginate
from shared.problems import not_found


async def list_notifications(
    *,
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    filters: dict[str, Any],
) -> tuple[list[Notification], str | None]:
    statement = sa.select(Notification).where(visible_to(principal))
    for name, value in filters.items():
        if value is not None:
            statement = statement.where(getattr(Notification, name) == value)
    return await paginate(
        session,
        statement,
        order_by=[Notification.created_at, Notification.id],
        params=params,
        descending=True,
    )


async def get_notification(
    *, session: AsyncSession, principal: Principal, notification_id: uuid.UUID
) -> tuple[Notification, list[Any]]:
    notification = await session.scalar(
        sa.select(Notification).where(Notification.id == notification_id, visible_to(principal))
    )
    if notification is None:
        raise not_found("notification", notification_id)
    deliveries = (
        await session.execute(
            sa.select(*COLUMNS)
            .select_from(
                cast(sa.Table, Delivery.__table__).join(
                    cast(sa.Table, Notification.__table__),
                    Delivery.notification_id == Notification.id,
                )
            )
            .where(Delivery.notification_id == notification_id)
            .order_by(Delivery.created_at, Delivery.id)
        )
    ).all()
    return notification, list(deliveries)
