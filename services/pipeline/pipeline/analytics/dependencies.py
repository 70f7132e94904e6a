from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query
from pydantic import AwareDatetime

from pipeline.analytics.service import Scope
from pipeline.jobs import service as jobs
from shared.http.dependencies import Staff, Unit
from shared.problems import Problem, not_found

JobIdQuery = Annotated[
    uuid.UUID | None,
    Query(
        description="Only this job (grouped by its stages); without it, every job you may see "
        "(grouped by stage kind).",
        examples=["0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b"],
    ),
]


async def visible_job_id(
    unit: Unit, principal: Staff, job_id: JobIdQuery = None
) -> uuid.UUID | None:
    """The job filter, if the caller may see that job (404 otherwise, as for the job itself)."""
    if job_id is not None:
        job = await jobs.get_visible(session=unit.session, principal=principal, job_id=job_id)
        if job is None:
            raise not_found("job", job_id)
    return job_id


VisibleJobId = Annotated[uuid.UUID | None, Depends(visible_job_id)]


async def analytics_scope(
    principal: Staff,
    job_id: VisibleJobId,
    period_from: Annotated[
        AwareDatetime | None,
        Query(
            alias="from",
            description="Only applications created at or after this moment (RFC 3339).",
            examples=["2025-01-01T00:00:00+08:00"],
        ),
    ] = None,
    period_to: Annotated[
        AwareDatetime | None,
        Query(
            alias="to",
            description="Only applications created before this moment (RFC 3339).",
            examples=["2025-04-01T00:00:00+08:00"],
        ),
    ] = None,
) -> Scope:
    if period_from is not None and period_to is not None and period_to <= period_from:
        raise Problem(
            422,
            "Invalid request",
            "`to` must be after `from`.",
            slug="validation-error",
            errors=[
                {
                    "field": "to",
                    "location": "query",
                    "message": "must be after `from`",
                    "code": "period_order",
                }
            ],
        )
    return Scope(principal=principal, job_id=job_id, period_from=period_from, period_to=period_to)


AnalyticsScope = Annotated[Scope, Depends(analytics_scope)]
