from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from pipeline.jobs import service
from pipeline.jobs.models import Job
from shared.http.dependencies import Staff, Unit
from shared.problems import not_found

JobId = Annotated[uuid.UUID, Path(description="The job's id.")]


async def visible_job(job_id: JobId, unit: Unit, principal: Staff) -> Job:
    """The job, if it exists and the caller may see it (404 otherwise, so ids cannot be probed)."""
    job = await service.get_visible(session=unit.session, principal=principal, job_id=job_id)
    if job is None:
        raise not_found("job", job_id)
    return job


async def locked_job(job_id: JobId, unit: Unit, principal: Staff) -> Job:
    """As ``visible_job``, locked until the request's transaction ends."""
    job = await service.get_visible(
        session=unit.session, principal=principal, job_id=job_id, for_update=True
    )
    if job is None:
        raise not_found("job", job_id)
    return job


VisibleJob = Annotated[Job, Depends(visible_job)]
LockedJob = Annotated[Job, Depends(locked_job)]
