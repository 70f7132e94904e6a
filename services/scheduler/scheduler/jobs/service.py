"""The jobs projection: the pipeline's jobs as far as the scheduler needs them (owners, for HR
access), kept current from ``pipeline.job_changed``."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.jobs.models import Job
from shared.events.envelope import ReceivedEvent
from shared.events.pipeline import JobChangedV1
from shared.unit import UnitOfWork


async def apply_job_changed(*, unit: UnitOfWork, event: ReceivedEvent[JobChangedV1]) -> None:
    """Insert or update the job; an event older than what is stored (by ``occurred_at``) is
    ignored, so reordered deliveries never bring back stale owners."""
    data = event.data
    statement = pg_insert(Job).values(
        id=data.job_id,
        title=data.title,
        status=data.status,
        owner_ids=list(dict.fromkeys(data.owner_ids)),
        changed_at=data.occurred_at,
    )
    await unit.session.execute(
        statement.on_conflict_do_update(
            index_elements=[Job.id],
            set_={
                "title": statement.excluded.title,
                "status": statement.excluded.status,
                "owner_ids": statement.excluded.owner_ids,
                "changed_at": statement.excluded.changed_at,
            },
            where=Job.changed_at < statement.excluded.changed_at,
        )
    )


async def get(*, session: AsyncSession, job_id: uuid.UUID) -> Job | None:
    return await session.get(Job, job_id)


async def exists(*, session: AsyncSession, job_id: uuid.UUID) -> bool:
    found = await session.execute(sa.select(Job.id).where(Job.id == job_id))
    return found.first() is not None
