"""No-shows: a candidate who did not turn up, recorded once per application, stage and kind,
with the release policy in force, for the no-show analytics."""

from __future__ import annotations

import uuid
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.applications.models import Application, StageChange
from pipeline.jobs.models import Job
from pipeline.no_shows.models import NoShow
from pipeline.no_shows.schemas import NoShowCreate
from pipeline.policies.models import ReleasePolicy
from shared.auth.principal import Principal
from shared.events.pipeline import NoShowRecordedV1
from shared.problems import Problem, conflict
from shared.unit import UnitOfWork

_no_shows = cast(sa.Table, NoShow.__table__)


def _invalid(field: str, message: str, code: str) -> Problem:
    return Problem(
        422,
        "Invalid request",
        message,
        slug="validation-error",
        errors=[{"field": field, "location": "body", "message": message, "code": code}],
    )


async def _reached(session: AsyncSession, application: Application, job: Job, key: str) -> bool:
    """Whether the application was ever in the stage (its first stage counts for everyone)."""
    if key in (application.stage_key, job.stages[0]["key"]):
        return True
    entered = await session.execute(
        sa.select(sa.literal(True))
        .where(StageChange.application_id == application.id, StageChange.to_stage == key)
        .limit(1)
    )
    return entered.scalar_one_or_none() is not None


async def record(
    *,
    unit: UnitOfWork,
    principal: Principal,
    application: Application,
    no_show_in: NoShowCreate,
) -> NoShow:
    """Record the no-show and emit ``no_show_recorded``; a second one for the same application,
    stage and kind is a 409 naming the first."""
    session = unit.session
    now = unit.clock.now()
    occurred_at = no_show_in.occurred_at or now
    if occurred_at > now:
        raise _invalid("occurred_at", "occurred_at must not be in the future.", "future")
    job = await session.get_one(Job, application.job_id)
    if job.stage(no_show_in.stage_key) is None:
        raise _invalid("stage_key", f"The job has no stage {no_show_in.stage_key!r}.", "unknown")
    if not await _reached(session, application, job, no_show_in.stage_key):
        raise conflict(
            f"The application never reached the stage {no_show_in.stage_key!r}.",
            slug="stage-not-reached",
        )
    mode = await session.scalar(
        sa.select(ReleasePolicy.mode).where(ReleasePolicy.job_type == job.job_type)
    )
    inserted = await session.execute(
        pg_insert(_no_shows)
        .values(
            id=uuid.uuid4(),
            application_id=application.id,
            stage_key=no_show_in.stage_key,
            kind=no_show_in.kind,
            policy_mode=mode or "immediate",
            recorded_by=principal.subject,
            occurred_at=occurred_at,
        )
        .on_conflict_do_nothing(
            index_elements=[_no_shows.c.application_id, _no_shows.c.stage_key, _no_shows.c.kind]
        )
        .returning(_no_shows.c.id)
    )
    new_id = inserted.scalar_one_or_none()
    if new_id is None:
        existing = await session.scalar(
            sa.select(NoShow.id).where(
                NoShow.application_id == application.id,
                NoShow.stage_key == no_show_in.stage_key,
                NoShow.kind == no_show_in.kind,
            )
        )
        raise conflict(
            "This no-show is already recorded.",
            slug="duplicate-no-show",
            no_show_id=str(existing),
        )
    await unit.emit(
        NoShowRecordedV1(
            application_id=application.id,
            job_id=application.job_id,
            candidate_id=application.candidate_id,
            stage_key=no_show_in.stage_key,
            kind=no_show_in.kind,
            occurred_at=occurred_at,
        ),
        subject=str(application.id),
    )
    return await session.get_one(NoShow, new_id)


async def list_for(*, session: AsyncSession, application_id: uuid.UUID) -> list[Any]:
    result = await session.execute(
        sa.select(NoShow)
        .where(NoShow.application_id == application_id)
        .order_by(NoShow.occurred_at, NoShow.id)
    )
    return list(result.scalars())
