"""Interview needs: which applications are waiting for an interview to be scheduled."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.interview_needs.models import ApplicationStage, InterviewNeed
from shared.events.envelope import ReceivedEvent
from shared.events.pipeline import StageChangedV1
from shared.http.pagination import PageParams, paginate
from shared.unit import UnitOfWork

INTERVIEW_STAGE_KIND = "interview"


async def apply_stage_change(*, unit: UnitOfWork, event: ReceivedEvent[StageChangedV1]) -> None:
    """Open a need when an application enters an interview stage; withdraw it when the
    application moves elsewhere. An event older than the newest one seen for the application
    is ignored, whether or not that newest one left a need behind."""
    data = event.data
    version = event.envelope.sequence or 0
    now = unit.clock.now()
    if not await _is_newest(unit, event, version=version, now=now):
        return
    if data.to_stage.kind != INTERVIEW_STAGE_KIND:
        await unit.session.execute(
            sa.update(InterviewNeed)
            .where(
                InterviewNeed.application_id == data.application_id,
                InterviewNeed.application_version < version,
            )
            .values(status="withdrawn", application_version=version, updated_at=now)
        )
        return
    statement = pg_insert(InterviewNeed).values(
        application_id=data.application_id,
        job_id=data.job_id,
        candidate_id=data.candidate_id,
        stage_key=data.to_stage.key,
        status="open",
        application_version=version,
        opened_at=data.occurred_at,
        updated_at=now,
    )
    await unit.session.execute(
        statement.on_conflict_do_update(
            index_elements=[InterviewNeed.application_id],
            set_={
                "stage_key": statement.excluded.stage_key,
                "status": "open",
                "application_version": statement.excluded.application_version,
                "opened_at": statement.excluded.opened_at,
                "updated_at": now,
            },
            where=InterviewNeed.application_version < statement.excluded.application_version,
        )
    )


async def _is_newest(
    unit: UnitOfWork, event: ReceivedEvent[StageChangedV1], *, version: int, now: datetime
) -> bool:
    """Record the event's stage as the application's newest, unless a newer one is known.

    The upsert's row lock also serialises concurrent events about the same application."""
    data = event.data
    statement = pg_insert(ApplicationStage).values(
        application_id=data.application_id,
        stage_key=data.to_stage.key,
        stage_kind=data.to_stage.kind,
        application_version=version,
        updated_at=now,
    )
    recorded = await unit.session.execute(
        statement.on_conflict_do_update(
            index_elements=[ApplicationStage.application_id],
            set_={
                "stage_key": statement.excluded.stage_key,
                "stage_kind": statement.excluded.stage_kind,
                "application_version": statement.excluded.application_version,
                "updated_at": now,
            },
            where=ApplicationStage.application_version < statement.excluded.application_version,
        ).returning(ApplicationStage.application_id)
    )
    return recorded.first() is not None


async def get(*, session: AsyncSession, application_id: uuid.UUID) -> InterviewNeed | None:
    return await session.get(InterviewNeed, application_id)


async def list_needs(
    *, session: AsyncSession, params: PageParams, status: str | None
) -> tuple[list[InterviewNeed], str | None]:
    statement = sa.select(InterviewNeed)
    if status is not None:
        statement = statement.where(InterviewNeed.status == status)
    return await paginate(
        session,
        statement,
        order_by=[InterviewNeed.opened_at, InterviewNeed.application_id],
        params=params,
    )
