"""Applications: creation, visibility and moving through the job's stages (``apply_transition``,
the one way an application changes stage or status)."""

from __future__ import annotations

import uuid
from typing import cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from pipeline.applications.models import Application, StageChange
from pipeline.applications.transitions import (
    MoveCommand,
    Stage,
    Status,
    TransitionRefused,
    plan,
)
from pipeline.jobs.models import Job
from pipeline.jobs.service import visible_jobs
from pipeline.policies.service import require_active_reason
from shared.auth.principal import Principal
from shared.events.pipeline import Actor, StageChangedV1, StageRef
from shared.http.pagination import PageParams, paginate
from shared.problems import Problem, conflict
from shared.unit import UnitOfWork


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


def job_stages(job: Job) -> list[Stage]:
    return [Stage(stage["key"], stage["kind"]) for stage in job.stages]


def transition_refused(refused: TransitionRefused) -> Problem:
    """The 409 of an illegal transition, naming what the application may do instead."""
    return Problem(
        409,
        "Transition not allowed",
        str(refused),
        slug="transition-refused",
        allowed=[{"transition": a.transition, "to_stage": a.to_stage} for a in refused.allowed],
    )


async def apply_transition(
    *,
    unit: UnitOfWork,
    application: Application,
    job: Job,
    move: MoveCommand,
    actor: Actor,
    result_id: uuid.UUID | None = None,
) -> Application:
    """Make one transition: plan it with the state machine, update the row (bumping its
    version), record the history and emit ``stage_changed``, all in the caller's transaction.

    Raises a 409 ``transition-refused`` problem (with ``allowed``) for an illegal transition,
    a 422 for an unknown or inactive rejection reason, and a 409 ``concurrent-update`` when
    another transaction changed the row since it was loaded."""
    if move.transition == "reject" and move.reason_code is not None:
        await require_active_reason(unit.session, move.reason_code)
    try:
        outcome = plan(
            job_stages(job),
            application.stage_key,
            cast(Status, application.status),
            move,
        )
    except TransitionRefused as refused:
        raise transition_refused(refused) from refused
    now = unit.clock.now()
    # The stay this change ends began when the application entered (or was reopened in) its
    # stage; a change made while it was not active (a reopen) ends no stay.
    stay_began_at = application.stage_entered_at if application.status == "active" else None
    application.stage_key = outcome.to_stage.key
    application.status = outcome.status
    application.rejection_reason = outcome.rejection_reason
    # A reopened application starts its stage again, so its SLA clock restarts too.
    if outcome.stage_changed or move.transition == "reopen":
        application.stage_entered_at = now
    application.updated_at = now
    if outcome.to_stage.key not in application.reached_stages:
        application.reached_stages = [*application.reached_stages, outcome.to_stage.key]
    try:
        await unit.session.flush()  # bumps the version; a concurrent writer fails here
    except StaleDataError as stale:
        raise conflict(
            "The application was changed by someone else meanwhile; reload it and retry.",
            slug="concurrent-update",
        ) from stale
    unit.session.add(
        StageChange(
            application_id=application.id,
            job_id=application.job_id,
            transition=move.transition,
            from_stage=outcome.from_stage.key,
            to_stage=outcome.to_stage.key,
            status=outcome.status,
            reason_code=move.reason_code,
            reason=move.reason,
            result_id=result_id,
            actor_kind=actor.kind,
            actor_id=actor.id,
            version=application.version,
            occurred_at=now,
            from_stage_entered_at=stay_began_at,
        )
    )
    target = job.stage(outcome.to_stage.key) or {}
    await unit.emit(
        StageChangedV1(
            application_id=application.id,
            job_id=application.job_id,
            candidate_id=application.candidate_id,
            transition=move.transition,
            from_stage=StageRef(key=outcome.from_stage.key, kind=outcome.from_stage.kind),
            to_stage=StageRef(key=outcome.to_stage.key, kind=outcome.to_stage.kind),
            reason=move.reason,
            reason_code=move.reason_code,
            status=outcome.status,
            notify_candidate=bool(target.get("notify_candidate", False)),
            result_id=result_id,
            actor=actor,
            occurred_at=now,
        ),
        subject=str(application.id),
        sequence=application.version,
    )
    return application
