"""Who may act on what a job holds (interviews, invitations, proposals): admins on every job,
HR only on the jobs whose owners include them. Everything else is hidden (404), not forbidden.

Use ``visible_job_ids`` in list queries, ``require_visible_job`` before acting on one job's
objects, and ``JobAccess`` as a route dependency for ``/.../{job_id}/...`` paths."""

from __future__ import annotations

import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.jobs.models import Job
from shared.auth.principal import Principal, Role
from shared.http.dependencies import Staff, Unit
from shared.problems import not_found


def owns_job(principal: Principal) -> sa.ColumnElement[bool]:
    """A condition on ``Job`` rows: true for the jobs the principal may see."""
    if principal.role is Role.ADMIN:
        return sa.true()
    if principal.role is Role.HR:
        return Job.owner_ids.contains([principal.subject])
    return sa.false()


def visible_job_ids(
    principal: Principal,
    job_id_column: sa.ColumnElement[uuid.UUID] | sa.orm.InstrumentedAttribute[uuid.UUID],
) -> sa.ColumnElement[bool]:
    """A WHERE condition limiting rows to the principal's jobs, e.g.
    ``select(Interview).where(visible_job_ids(principal, Interview.job_id))``; no filter for
    admins, nothing for anyone but HR and admins."""
    if principal.role is Role.ADMIN:
        return sa.true()
    if principal.role is not Role.HR:
        return sa.false()
    return job_id_column.in_(sa.select(Job.id).where(Job.owner_ids.contains([principal.subject])))


async def can_see_job(session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> bool:
    if principal.role is Role.ADMIN:
        return True
    found = await session.execute(sa.select(Job.id).where(Job.id == job_id, owns_job(principal)))
    return found.first() is not None


async def require_visible_job(
    session: AsyncSession, principal: Principal, job_id: uuid.UUID
) -> Job:
    """The job, if it exists and the principal may see it; else a 404 problem (also for an
    admin when the scheduler has not heard of the job)."""
    job = await session.get(Job, job_id)
    if job is None or not (
        principal.role is Role.ADMIN
        or (principal.role is Role.HR and principal.subject in job.owner_ids)
    ):
        raise not_found("job", job_id)
    return job


async def visible_job(job_id: uuid.UUID, unit: Unit, principal: Staff) -> Job:
    """Route dependency for paths with a ``job_id``: staff only, and only their jobs."""
    return await require_visible_job(unit.session, principal, job_id)


JobAccess = Annotated[Job, Depends(visible_job)]
