"""The messages' timer: a candidate's message left unanswered too long reminds the job's HR."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from pipeline.applications.models import Application
from pipeline.jobs.models import Job
from pipeline.messages.service import UNANSWERED, oldest_unanswered
from pipeline.timers import timer_handlers
from shared.events.pipeline import MessageUnansweredV1
from shared.timers import DueTimer
from shared.unit import UnitOfWork


@timer_handlers.on(UNANSWERED)
async def remind_unanswered(unit: UnitOfWork, timer: DueTimer) -> None:
    application_id = uuid.UUID(timer.key)
    row = (
        await unit.session.execute(
            sa.select(Application.job_id, Application.candidate_id, Job.owner_ids)
            .join(Job, Job.id == Application.job_id)
            .where(Application.id == application_id)
        )
    ).first()
    if row is None:
        return
    oldest = await oldest_unanswered(session=unit.session, application_id=application_id)
    if oldest is None:
        return  # answered meanwhile (the reply should have cancelled the timer)
    now = unit.clock.now()
    await unit.emit(
        MessageUnansweredV1(
            application_id=application_id,
            job_id=row.job_id,
            candidate_id=row.candidate_id,
            owner_ids=list(row.owner_ids),
            oldest_unanswered_at=oldest,
            waited_seconds=max(0, int((now - oldest).total_seconds())),
        ),
        subject=str(application_id),
    )
