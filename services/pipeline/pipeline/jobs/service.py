"""Jobs: creation (with inline stages or a template version's), changes, lookup and who may see
them."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.jobs.exceptions import invalid_field
from pipeline.jobs.models import Job
from pipeline.jobs.schemas import JobCreate, JobUpdate
from pipeline.policies.models import ReleasePolicy
from pipeline.templates import service as templates
from pipeline.templates.models import StageTemplate, StageTemplateVersion
from shared.auth.principal import Principal, Role
from shared.events.pipeline import JobChangedV1
from shared.http.pagination import PageParams, paginate
from shared.problems import conflict, version_mismatch
from shared.unit import UnitOfWork


def visible_jobs(principal: Principal) -> sa.Select[Job]:
    """Admins see every job; HR only the jobs they own."""
    statement = sa.select(Job)
    if principal.role is not Role.ADMIN:
        statement = statement.where(Job.owner_ids.contains([principal.subject]))
    return statement


async def _check_job_type(session: AsyncSession, job_type: str) -> None:
    found = await session.scalar(
        sa.select(ReleasePolicy.job_type).where(ReleasePolicy.job_type == job_type)
    )
    if found is None:
        raise invalid_field(
            "job_type",
            f"no release policy is configured for job type {job_type!r}",
            code="unknown_job_type",
        )


def _check_thresholds(advance: Decimal | None, reject: Decimal | None, *, field: str) -> None:
    if advance is not None and reject is not None and reject > advance:
        raise invalid_field(
            field,
            "ai_reject_below_score may not be above ai_advance_min_score",
            code="thresholds_crossed",
        )


async def _template_stages(
    session: AsyncSession, template_id: uuid.UUID, version: int | None
) -> tuple[int, list[dict[str, Any]]]:
    template = await session.get(StageTemplate, template_id)
    if template is None:
        raise invalid_field("template_id", "no such stage template", code="unknown_template")
    if template.archived_at is not None:
        raise conflict(
            "The template is archived; new jobs may not use it.", slug="template-archived"
        )
    wanted = version or template.latest_version
    found = await templates.get_version(session=session, template_id=template_id, version=wanted)
    if found is None:
        raise invalid_field(
            "template_version",
            f"the template has versions 1 to {template.latest_version}",
            code="unknown_template_version",
        )
    return wanted, _copy(found)


def _copy(version: StageTemplateVersion) -> list[dict[str, Any]]:
    return [dict(stage) for stage in version.stages]


async def create(*, unit: UnitOfWork, principal: Principal, job_in: JobCreate) -> Job:
    if (job_in.stages is None) == (job_in.template_id is None):
        raise invalid_field("stages", "give either stages or template_id (not both)")
    if job_in.template_version is not None and job_in.template_id is None:
        raise invalid_field("template_version", "template_version needs template_id")
    _check_thresholds(
        job_in.ai_advance_min_score, job_in.ai_reject_below_score, field="ai_reject_below_score"
    )
    await _check_job_type(unit.session, job_in.job_type)
    template_version: int | None = None
    if job_in.template_id is not None:
        template_version, stages = await _template_stages(
            unit.session, job_in.template_id, job_in.template_version
        )
    else:
        assert job_in.stages is not None
        stages = templates.stage_rows(job_in.stages)
    owners = list(dict.fromkeys(job_in.owner_ids))
    if principal.role is Role.HR and principal.subject not in owners:
        owners.insert(0, principal.subject)
    now = unit.clock.now()
    job = Job(
        id=uuid.uuid4(),
        title=job_in.title,
        department=job_in.department,
        location=job_in.location,
        job_type=job_in.job_type,
        owner_ids=owners,
        stages=stages,
        template_id=job_in.template_id,
        template_version=template_version,
        status="open",
        ai_advance_min_score=job_in.ai_advance_min_score,
        ai_reject_below_score=job_in.ai_reject_below_score,
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    unit.session.add(job)
    await unit.session.flush()
    await _announce(unit, job)
    return job


async def update(
    *,
    unit: UnitOfWork,
    principal: Principal,
    job: Job,
    expected_version: int | None,
    changes: JobUpdate,
) -> Job:
    """Apply the fields sent; ``job`` must be locked (``LockedJob``)."""
    if expected_version is not None and expected_version != job.version:
        raise version_mismatch(job.version)
    sent = changes.model_dump(exclude_unset=True)
    if "owner_ids" in sent:
        owners = list(dict.fromkeys(sent["owner_ids"]))
        # An HR user cannot drop themselves (they would lose the job at once); another owner
        # or an admin can.
        if principal.role is Role.HR and principal.subject not in owners:
            raise invalid_field(
                "owner_ids", "you cannot remove yourself from the owners", code="self_removal"
            )
        sent["owner_ids"] = owners
    _check_thresholds(
        sent.get("ai_advance_min_score", job.ai_advance_min_score),
        sent.get("ai_reject_below_score", job.ai_reject_below_score),
        field="ai_reject_below_score"
        if "ai_reject_below_score" in sent
        else "ai_advance_min_score",
    )
    if not sent:
        return job
    for field, value in sent.items():
        setattr(job, field, value)
    job.updated_at = unit.clock.now()
    await unit.session.flush()  # bumps the version
    await _announce(unit, job)
    return job


async def _announce(unit: UnitOfWork, job: Job) -> None:
    """``job_changed``: other services keep who owns the job, to scope HR access by it."""
    await unit.emit(
        JobChangedV1(
            job_id=job.id,
            title=job.title,
            job_type=job.job_type,
            status=job.status,
            owner_ids=list(job.owner_ids),
            occurred_at=job.updated_at,
        ),
        subject=str(job.id),
        sequence=job.version,
    )


# Looked up on every request about a job: built once, so each request only binds values.
_JOB_FOR_ADMIN = sa.select(Job).where(Job.id == sa.bindparam("job_id"))
_JOB_FOR_OWNER = _JOB_FOR_ADMIN.where(
    Job.owner_ids.contains(sa.bindparam("owners", type_=ARRAY(sa.Text)))
)


async def get_visible(
    *, session: AsyncSession, principal: Principal, job_id: uuid.UUID, for_update: bool = False
) -> Job | None:
    admin = principal.role is Role.ADMIN
    statement = _JOB_FOR_ADMIN if admin else _JOB_FOR_OWNER
    if for_update:
        statement = statement.with_for_update()
    params: dict[str, Any] = {"job_id": job_id}
    if not admin:
        params["owners"] = [principal.subject]
    result = await session.execute(statement, params)
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
