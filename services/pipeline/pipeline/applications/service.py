"""Applications: creation, visibility and moving through the job's stages."""

from __future__ import annotations

import uuid
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.applications.models import Application, Candidate, StageChange
from pipeline.applications.schemas import ApplicationCreate, TransitionIn
from pipeline.applications.transitions import Move, Stage, TransitionRefused, plan
from pipeline.jobs.models import Job
from pipeline.jobs.service import visible_jobs
from shared.auth.principal import Principal
from shared.events.pipeline import Actor, StageChangedV1, StageRef
from shared.http.pagination import PageParams, paginate
from shared.problems import Problem, conflict, version_mismatch
from shared.unit import UnitOfWork

# The statements of creating an application, built once: each request only binds values, and
# they run on the tables (Core) rather than through the ORM's bulk machinery.
_candidates = cast(sa.Table, Candidate.__table__)
_applications = cast(sa.Table, Application.__table__)
_new_candidate = pg_insert(_candidates).values(
    id=sa.bindparam("id"),
    full_name=sa.bindparam("full_name"),
    email=sa.bindparam("email"),
    created_at=sa.bindparam("created_at"),
)
# On conflict the no-op update makes RETURNING give the existing candidate's id.
_upsert_candidate = _new_candidate.on_conflict_do_update(
    index_elements=[_candidates.c.email], set_={"email": _new_candidate.excluded.email}
).returning(_candidates.c.id)
_insert_application = (
    pg_insert(_applications)
    .values(
        id=sa.bindparam("id"),
        job_id=sa.bindparam("job_id"),
        candidate_id=sa.bindparam("candidate_id"),
        stage_key=sa.bindparam("stage_key"),
        status="active",
        version=1,
        created_at=sa.bindparam("created_at"),
        updated_at=sa.bindparam("created_at"),
    )
    .on_conflict_do_nothing(index_elements=[_applications.c.job_id, _applications.c.candidate_id])
    .returning(*_applications.c)
)
_existing_application = sa.select(_applications.c.id).where(
    _applications.c.job_id == sa.bindparam("job_id"),
    _applications.c.candidate_id == sa.bindparam("candidate_id"),
)


async def _candidate_for(unit: UnitOfWork, *, full_name: str, email: str) -> uuid.UUID:
    """The candidate with this email, created if new (a person applying twice is one candidate)."""
    upserted = await unit.session.execute(
        _upsert_candidate,
        {
            "id": uuid.uuid4(),
            "full_name": full_name,
            "email": email.strip().lower(),
            "created_at": unit.clock.now(),
        },
    )
    candidate_id: uuid.UUID = upserted.scalar_one()
    return candidate_id


async def create(*, unit: UnitOfWork, job: Job, application_in: ApplicationCreate) -> sa.Row[Any]:
    """The new application's row (read it like an ``Application``)."""
    candidate_id = await _candidate_for(
        unit,
        full_name=application_in.candidate.full_name,
        email=str(application_in.candidate.email),
    )
    inserted = await unit.session.execute(
        _insert_application,
        {
            "id": uuid.uuid4(),
            "job_id": job.id,
            "candidate_id": candidate_id,
            "stage_key": job.stages[0]["key"],
            "created_at": unit.clock.now(),
        },
    )
    application = inserted.first()
    if application is None:
        existing = await unit.session.execute(
            _existing_application, {"job_id": job.id, "candidate_id": candidate_id}
        )
        raise conflict(
            "This candidate already applied to this job.",
            slug="duplicate-application",
            application_id=str(existing.scalar_one()),
        )
    return application


def visible_applications(principal: Principal) -> sa.Select[Application]:
    """Applications of the jobs the caller may see."""
    jobs = visible_jobs(principal).with_only_columns(Job.id).scalar_subquery()
    return sa.select(Application).where(Application.job_id.in_(jobs))


async def get_visible(
    *,
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    for_update: bool = False,
) -> Application | None:
    statement = visible_applications(principal).where(Application.id == application_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def list_visible(
    *, session: AsyncSession, principal: Principal, params: PageParams, job_id: uuid.UUID | None
) -> tuple[list[Application], str | None]:
    statement = visible_applications(principal)
    if job_id is not None:
        statement = statement.where(Application.job_id == job_id)
    return await paginate(
        session,
        statement,
        order_by=[Application.created_at, Application.id],
        params=params,
        descending=True,
    )


async def history(*, session: AsyncSession, application_id: uuid.UUID) -> list[StageChange]:
    result = await session.execute(
        sa.select(StageChange)
        .where(StageChange.application_id == application_id)
        .order_by(StageChange.version)
    )
    return list(result.scalars())


async def transition(
    *,
    unit: UnitOfWork,
    principal: Principal,
    application: Application,
    expected_version: int | None,
    command: TransitionIn,
) -> Application:
    """Move the application, record who/when/why and emit ``stage_changed``, atomically."""
    if expected_version is not None and expected_version != application.version:
        raise version_mismatch(application.version)
    job = await unit.session.get_one(Job, application.job_id)
    stages = [Stage(stage["key"], stage["kind"]) for stage in job.stages]
    try:
        outcome = plan(
            stages,
            application.stage_key,
            application.status,  # type: ignore[arg-type]
            Move(command.transition, command.to_stage),
        )
    except TransitionRefused as refused:
        raise Problem(
            409, "Transition not allowed", str(refused), slug="transition-refused"
        ) from refused
    now = unit.clock.now()
    application.stage_key = outcome.to_stage.key
    application.updated_at = now
    await unit.session.flush()  # bumps the version; a concurrent writer fails here
    unit.session.add(
        StageChange(
            application_id=application.id,
            transition=command.transition,
            from_stage=outcome.from_stage.key,
            to_stage=outcome.to_stage.key,
            reason=command.reason,
            actor_kind=principal.role.value,
            actor_id=principal.subject,
            version=application.version,
            occurred_at=now,
        )
    )
    await unit.emit(
        StageChangedV1(
            application_id=application.id,
            job_id=application.job_id,
            candidate_id=application.candidate_id,
            transition=command.transition,
            from_stage=StageRef(key=outcome.from_stage.key, kind=outcome.from_stage.kind),
            to_stage=StageRef(key=outcome.to_stage.key, kind=outcome.to_stage.kind),
            reason=command.reason,
            actor=Actor(kind=principal.role.value, id=principal.subject),
            occurred_at=now,
        ),
        subject=str(application.id),
        sequence=application.version,
    )
    return application
