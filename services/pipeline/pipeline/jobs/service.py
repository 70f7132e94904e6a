"""Jobs: creation, lookup and who may see them."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.jobs.models import Job
from pipeline.jobs.schemas import JobCreate
from shared.auth.principal import Principal, Role
from shared.http.pagination import PageParams, paginate
from shared.unit import UnitOfWork


def visible_jobs(principal: Principal) -> sa.Select[Job]:
    """Admins see every job; HR only the jobs they own."""
    statement = sa.select(Job)
    if principal.role is not Role.ADMIN:
        statement = statement.where(Job.owner_ids.contains([principal.subject]))
    return statement


async def create(*, unit: UnitOfWork, principal: Principal, job_in: JobCreate) -> Job:
    owners = list(dict.fromkeys(job_in.owner_ids))
    if principal.role is Role.HR and principal.subject not in owners:
        owners.insert(0, principal.subject)
    job = Job(
        id=uuid.uuid4(),
        title=job_in.title,
        department=job_in.department,
        location=job_in.location,
        job_type=job_in.job_type,
        owner_ids=owners,
        stages=[stage.model_dump() for stage in job_in.stages],
        created_by=principal.subject,
        created_at=unit.clock.now(),
    )
    unit.session.add(job)
    await unit.session.flush()
    return job


# Looked up on every request about a job: built once, so each request only binds values.
_JOB_FOR_ADMIN = sa.select(Job).where(Job.id == sa.bindparam("job_id"))
_JOB_FOR_OWNER = _JOB_FOR_ADMIN.where(
    Job.owner_ids.contains(sa.bindparam("owners", type_=ARRAY(sa.Text)))
)


async def get_visible(
    *, session: AsyncSession, principal: Principal, job_id: uuid.UUID
) -> Job | None:
    if principal.role is Role.ADMIN:
        result = await session.execute(_JOB_FOR_ADMIN, {"job_id": job_id})
    else:
        result = await session.execute(
            _JOB_FOR_OWNER, {"job_id": job_id, "owners": [principal.subject]}
        )
    return result.scalar_one_or_none()


async def list_visible(
    *, session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[Job], str | None]:
    return await paginate(
        session,
        visible_jobs(principal),
        order_by=[Job.created_at, Job.id],
        params=params,
        descending=True,
    )
