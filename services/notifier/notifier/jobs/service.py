"""The jobs projection: titles for messages and HR owners to tell, from ``pipeline.job_changed``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.jobs.models import Job
from shared.events.envelope import ReceivedEvent
from shared.events.pipeline import JobChangedV1
from shared.unit import UnitOfWork


async def apply_job_changed(*, unit: UnitOfWork, event: ReceivedEvent[JobChangedV1]) -> None:
    """Insert or update the job; an event with an older version than the stored one is ignored,
    so a reordered delivery never brings back stale owners."""
    data = event.data
    statement = pg_insert(Job).values(
        id=data.job_id,
        title=data.title,
        job_type=data.job_type,
        status=data.status,
        owner_ids=list(dict.fromkeys(data.owner_ids)),
        sequence=event.envelope.sequence or 0,
        updated_at=data.occurred_at,
    )
    await unit.session.execute(
        statement.on_conflict_do_update(
            index_elements=[Job.id],
            set_={
                column: statement.excluded[column]
                for column in ("title", "job_type", "status", "owner_ids", "sequence", "updated_at")
            },
            where=sa.or_(
                Job.sequence < statement.excluded.sequence,
                sa.and_(
                    Job.sequence == statement.excluded.sequence,
                    Job.updated_at < statement.excluded.updated_at,
                ),
            ),
        )
    )


async def jobs_by_id(session: AsyncSession, job_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Job]:
    wanted = list(set(job_ids))
    if not wanted:
        return {}
    rows = await session.scalars(sa.select(Job).where(Job.id.in_(wanted)))
    return {job.id: job for job in rows}
