from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from pipeline.jobs import service
from pipeline.jobs.dependencies import LockedJob, VisibleJob
from pipeline.jobs.models import Job
from pipeline.jobs.schemas import JobCreate, JobRead, JobUpdate
from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, IfMatch, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


def _read(job: Job, *, status_code: int = 200, location: bool = False) -> Response:
    headers = {"ETag": f'"{job.version}"'}
    if location:
        headers["Location"] = f"/v1/jobs/{job.id}"
    return json_response(JobRead.model_validate(job), status_code=status_code, headers=headers)


@router.post(
    "",
    status_code=201,
    response_model=JobRead,
    summary="Create a job with its stages, given inline or copied from a template version",
    responses=error_responses(401, 403, 409, 413, 422),
)
async def create_job(
    body: JobCreate, unit: Unit, principal: Staff, idempotency: IdempotencyDep
) -> Response:
    async def produce() -> Response:
        job = await service.create(unit=unit, principal=principal, job_in=body)
        return _read(job, status_code=201, location=True)

    return await idempotency.run(unit, produce)


@router.get(
    "",
    response_model=Page[JobRead],
    summary="Jobs the caller may see, newest first",
    responses=error_responses(400, 401, 403, 422),
)
async def list_jobs(unit: Unit, principal: Staff, page: PageQuery) -> Page[JobRead]:
    jobs, next_cursor = await service.list_visible(
        session=unit.session, principal=principal, params=page
    )
    return Page[JobRead](
        items=[JobRead.model_validate(job) for job in jobs], next_cursor=next_cursor
    )


@router.get(
    "/{job_id}",
    response_model=JobRead,
    summary="One job; its ETag is its version",
    responses=error_responses(401, 403, 404, 422),
)
async def get_job(job: VisibleJob) -> Response:
    return _read(job)


@router.patch(
    "/{job_id}",
    response_model=JobRead,
    summary="Change a job's title, place, owners, status or AI thresholds (not its stages)",
    responses=error_responses(400, 401, 403, 404, 412, 413, 422),
)
async def update_job(
    job: LockedJob, body: JobUpdate, unit: Unit, principal: Staff, expected_version: IfMatch
) -> Response:
    updated = await service.update(
        unit=unit, principal=principal, job=job, expected_version=expected_version, changes=body
    )
    return _read(updated)
