"""Re-invitations from the talent pool: a known candidate invited to a job gets a new application
in the job's first stage (source ``talentpool``), which invites them like any other.

Only re-invitations without an application (a new application is wanted); the no-show group's
(a new AI-interview invitation on an existing application) are the scheduler's. Nothing happens,
and a log line says why, when the candidate already applied to the job, the job is closed or
unknown, or the candidate is unknown (erased, say). A batch of them costs a few statements.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from pipeline.candidates.models import Candidate
from pipeline.candidates.service import Resolved
from pipeline.consumers import handlers
from pipeline.intake import service
from pipeline.jobs.models import Job
from shared.events.envelope import ReceivedEvent
from shared.events.talentpool import ReinvitationRequestedV1
from shared.logging import get_logger
from shared.unit import UnitOfWork

log = get_logger(__name__)

SOURCE = "talentpool"


@handlers.on_batch(ReinvitationRequestedV1, name="pipeline.apply_reinvited_candidate")
async def apply_reinvited_candidates(
    unit: UnitOfWork, events: list[ReceivedEvent[ReinvitationRequestedV1]]
) -> None:
    wanted = [event.data for event in events if event.data.application_id is None]
    if not wanted:
        return
    session = unit.session
    jobs = {
        job.id: job
        for job in await session.scalars(
            sa.select(Job).where(Job.id.in_({data.job_id for data in wanted}))
        )
    }
    locales = {
        row.id: row.locale
        for row in await session.execute(
            sa.select(Candidate.id, Candidate.locale).where(
                Candidate.id.in_({data.candidate_id for data in wanted})
            )
        )
    }
    by_job: dict[uuid.UUID, list[tuple[ReinvitationRequestedV1, Resolved]]] = {}
    for data in wanted:
        job = jobs.get(data.job_id)
        ids = {"reinvitation_id": str(data.reinvitation_id), "job_id": str(data.job_id)}
        if job is None:
            log.warning("intake.reinvitation_ignored", reason="job_unknown", **ids)
        elif job.status != "open":
            log.info("intake.reinvitation_ignored", reason="job_closed", **ids)
        elif data.candidate_id not in locales:
            log.warning("intake.reinvitation_ignored", reason="candidate_unknown", **ids)
        else:
            resolved = Resolved(data.candidate_id, locales[data.candidate_id], new=False)
            by_job.setdefault(job.id, []).append((data, resolved))
    for job_id, items in by_job.items():
        added = await service.add_candidates(
            unit=unit, job=jobs[job_id], resolved=[r for _, r in items], source=SOURCE
        )
        for (data, _), outcome in zip(items, added, strict=True):
            log.info(
                "intake.reinvitation_applied"
                if outcome.outcome == "created"
                else "intake.reinvitation_ignored",
                reinvitation_id=str(data.reinvitation_id),
                job_id=str(job_id),
                application_id=str(outcome.application_id),
                **({} if outcome.outcome == "created" else {"reason": "already_applied"}),
            )
