"""Notifications: recording what is owed to whom, and listing it."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.notifications.models import Notification
from shared.events.envelope import ReceivedEvent
from shared.events.pipeline import StageChangedV1
from shared.http.pagination import PageParams, paginate
from shared.unit import UnitOfWork


async def record_stage_change(*, unit: UnitOfWork, event: ReceivedEvent[StageChangedV1]) -> None:
    """A pending notice to the candidate that their application moved."""
    data = event.data
    await unit.session.execute(
        pg_insert(Notification)
        .values(
            id=uuid.uuid4(),
            kind="stage_changed",
            recipient_kind="candidate",
            candidate_id=data.candidate_id,
            application_id=data.application_id,
            status="pending",
            data={
                "job_id": str(data.job_id),
                "transition": data.transition,
                "from_stage": data.from_stage.key if data.from_stage else None,
                "to_stage": data.to_stage.key,
                "to_stage_kind": data.to_stage.kind,
                "occurred_at": data.occurred_at.isoformat(),
            },
            source_event_id=event.envelope.id,
            created_at=unit.clock.now(),
        )
        .on_conflict_do_nothing()
    )


async def list_notifications(
    *,
    session: AsyncSession,
    params: PageParams,
    application_id: uuid.UUID | None,
    candidate_id: uuid.UUID | None,
) -> tuple[list[Notification], str | None]:
    statement = sa.select(Notification)
    if application_id is not None:
        statement = statement.where(Notification.application_id == application_id)
    if candidate_id is not None:
        statement = statement.where(Notification.candidate_id == candidate_id)
    return await paginate(
        session,
        statement,
        order_by=[Notification.created_at, Notification.id],
        params=params,
        descending=True,
    )
