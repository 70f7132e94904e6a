"""Who may work on a job's people (recommendations, re-invitations, the no-show group): admins,
HR holding ``talentpool:search``, and HR owning the job. Other HR get 404 (as for a job that
does not exist, so ids cannot be probed); interviewers and services 403."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from shared.http.dependencies import Staff, Unit
from shared.problems import Problem, not_found
from talentpool.jobs.models import Job
from talentpool.profiles.dependencies import sees_whole_pool

JobId = Annotated[
    uuid.UUID,
    Path(
        description="The pipeline's id of the job.",
        examples=["0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"],
    ),
]


async def managed_job(job_id: JobId, unit: Unit, principal: Staff) -> Job:
    """The job as the pool knows it (from ``job_changed``), if the caller may work on it."""
    job = await unit.session.get(Job, job_id)
    if job is None or not (sees_whole_pool(principal) or principal.subject in job.owner_ids):
        raise not_found("job", job_id)
    return job


ManagedJob = Annotated[Job, Depends(managed_job)]


def require_open(job: Job) -> Job:
    """Nobody is invited to a closed job (409 ``job-closed``)."""
    if job.status != "open":
        raise Problem(
            409, "Conflict", "The job is closed; nobody can be invited to it.", slug="job-closed"
        )
    return job
