"""Results: decisions about applications, released to the candidate at once, at a set time or
after a sequential approval chain, under the job type's release policy. A released result is
applied to the application (``apply_transition`` with its ``result_id``) and announced with
``result_released`` in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.applications.models import Application
from pipeline.applications.service import (
    apply_transition,
    job_stages,
    transition_refused,
)
from pipeline.applications.transitions import (
    DECISIONS,
    MoveCommand,
    Status,
    TransitionName,
    TransitionRefused,
    plan,
)
from pipeline.calendar.service import load_calendar
from pipeline.jobs.models import Job
from pipeline.policies.service import Policy, policy_for, require_active_reason
from pipeline.results import chain
from pipeline.results.models import ApprovalStep, Result
from pipeline.results.schemas import ResultCreate
from shared.auth.principal import Principal, Role
from shared.events.pipeline import (
    Actor,
    ApprovalEscalatedV1,
    ApprovalRequestedV1,
    ResultReleasedV1,
    StageRef,
)
from shared.http.pagination import PageParams, paginate
from shared.logging import get_logger
from shared.problems import Problem, conflict, forbidden, version_mismatch
from shared.unit import UnitOfWork

log = get_logger(__name__)

OPEN_STATES = ("pending_approval", "scheduled")
RELEASE_TIMER = "result_release"
ESCALATION_TIMER = "approval_escalation"
SYSTEM = Actor(kind="system")


def actor_of(principal: Principal) -> Actor:
    return Actor(kind=principal.role.value, id=principal.subject)


def _release_key(result_id: uuid.UUID) -> str:
    return f"result:{result_id}"


def _escalation_key(step_id: uuid.UUID) -> str:
    return f"approval_step:{step_id}"


def _json_scores(scores: dict[str, Any] | None) -> dict[str, float] | None:
    # JSONB holds numbers; the API reads them back as decimals.
    return None if scores is None else {name: float(value) for name, value in scores.items()}


def _stage_ref(job: Job, key: str) -> StageRef:
    stage = job.stage(key) or {"kind": "unknown"}
    return StageRef(key=key, kind=stage["kind"])


async def _check_plannable(
    session: AsyncSession, application: Application, job: Job, move: MoveCommand
) -> None:
    """Refuse now (422 or 409) a decision that could not be applied to the application."""
    if move.transition == "reject" and move.reason_code is not None:
        await require_active_reason(session, move.reason_code)
    try:
        plan(job_stages(job), application.stage_key, cast(Status, application.status), move)
    except TransitionRefused as refused:
        raise transition_refused(refused) from refused


async def open_result(session: AsyncSession, application_id: uuid.UUID) -> Result | None:
    return (
        await session.execute(
            sa.select(Result).where(
                Result.application_id == application_id, Result.state.in_(OPEN_STATES)
            )
        )
    ).scalar_one_or_none()


async def _refuse_if_open(session: AsyncSession, application_id: uuid.UUID) -> None:
    existing = await open_result(session, application_id)
    if existing is not None:
        raise conflict(
            f"The application already has a result on its way ({existing.state}); approve, "
            "decline or cancel it first.",
            slug="result-open",
            result_id=str(existing.id),
        )


async def steps_of(session: AsyncSession, result_id: uuid.UUID) -> list[ApprovalStep]:
    rows = await session.execute(
        sa.select(ApprovalStep)
        .where(ApprovalStep.result_id == result_id)
        .order_by(ApprovalStep.position)
    )
    return list(rows.scalars())


async def decide(
    *,
    unit: UnitOfWork,
    application: Application,
    job: Job,
    decision: ResultCreate,
    actor: Actor,
) -> Result:
    """Record a decision and apply the job type's release policy: with no approver and no later
    ``release_at`` it is applied and released now; with a later ``release_at`` it is scheduled;
    with approvers it waits for the chain. The caller holds the application's row lock."""
    policy = await policy_for(unit.session, job.job_type)
    move = MoveCommand(decision.decision, decision.to_stage, decision.reason_code)
    await _check_plannable(unit.session, application, job, move)
    await _refuse_if_open(unit.session, application.id)
    now = unit.clock.now()
    result = Result(
        id=uuid.uuid4(),
        application_id=application.id,
        stage_key=application.stage_key,
        decision=decision.decision,
        to_stage=decision.to_stage,
        reason_code=decision.reason_code,
        score=decision.score,
        dimension_scores=_json_scores(decision.dimension_scores),
        internal_note=decision.internal_note,
        candidate_message=decision.candidate_message,
        policy_mode=policy.mode,
        state="pending_approval",
        release_at=decision.release_at,
        created_by=actor.id or actor.kind,
        created_at=now,
        updated_at=now,
    )
    unit.session.add(result)
    later = decision.release_at is not None and decision.release_at > now
    if policy.gated:
        await unit.session.flush()
        await _start_chain(unit, result, application, policy, now)
    elif later:
        result.state = "scheduled"
        result.expected_by = decision.release_at
        await unit.session.flush()
        await _schedule_release(unit, result)
    else:
        await unit.session.flush()
        await release(unit=unit, result=result, application=application, job=job, actor=actor)
    return result


async def _start_chain(
    unit: UnitOfWork, result: Result, application: Application, policy: Policy, now: datetime
) -> None:
    steps = [
        ApprovalStep(
            id=uuid.uuid4(),
            result_id=result.id,
            position=position,
            approver_id=approver,
            state="waiting",
        )
        for position, approver in enumerate(policy.approver_ids, start=1)
    ]
    unit.session.add_all(steps)
    await _open_step(unit, result, application, steps[0], policy, waiting=len(steps) - 1, now=now)


async def _open_step(
    unit: UnitOfWork,
    result: Result,
    application: Application,
    step: ApprovalStep,
    policy: Policy,
    *,
    waiting: int,
    now: datetime,
) -> None:
    """Make it ``step``'s turn: due after the SLA (in workday hours), escalated then, announced
    now."""
    step.state = "pending"
    # Read afresh (a few rows): a step opens rarely, and an override entered a moment ago counts.
    calendar = await load_calendar(unit.session)
    step.due_at = chain.step_due(calendar, now, policy.step_sla_hours)
    result.expected_by = chain.expected_by(
        calendar, step.due_at, waiting, policy.step_sla_hours, result.release_at
    )
    result.updated_at = now
    await unit.session.flush()
    await unit.timers.schedule(
        unit.session,
        kind=ESCALATION_TIMER,
        key=_escalation_key(step.id),
        due_at=step.due_at,
        payload={"step_id": str(step.id)},
    )
    await unit.emit(
        ApprovalRequestedV1(
            result_id=result.id,
            application_id=application.id,
            job_id=application.job_id,
            approver_id=step.approver_id,
            position=step.position,
            due_at=step.due_at,
            candidate_id=application.candidate_id,
            expected_by=result.expected_by,
        ),
        subject=str(result.id),
        sequence=result.version,
    )


async def _schedule_release(unit: UnitOfWork, result: Result) -> None:
    assert result.release_at is not None
    await unit.timers.schedule(
        unit.session,
        kind=RELEASE_TIMER,
        key=_release_key(result.id),
        due_at=result.release_at,
        payload={"result_id": str(result.id)},
    )


async def release(
    *,
    unit: UnitOfWork,
    result: Result,
    application: Application,
    job: Job,
    actor: Actor,
    reason: str | None = None,
) -> Result:
    """Apply the result to the application and emit ``result_released``."""
    move = MoveCommand(
        cast(TransitionName, result.decision), result.to_stage, result.reason_code, reason
    )
    await apply_transition(
        unit=unit,
        application=application,
        job=job,
        move=move,
        actor=actor,
        result_id=result.id,
    )
    now = unit.clock.now()
    result.state = "released"
    result.released_at = now
    result.to_stage = application.stage_key
    result.updated_at = now
    await unit.session.flush()
    await unit.emit(
        ResultReleasedV1(
            result_id=result.id,
            application_id=application.id,
            job_id=application.job_id,
            candidate_id=application.candidate_id,
            decision=result.decision,
            stage=_stage_ref(job, result.stage_key),
            to_stage=_stage_ref(job, application.stage_key),
            reason_code=result.reason_code,
            policy_mode=result.policy_mode,
            released_at=now,
        ),
        subject=str(result.id),
        sequence=result.version,
    )
    return result


async def direct_transition(
    *,
    unit: UnitOfWork,
    principal: Principal,
    application: Application,
    expected_version: int | None,
    move: MoveCommand,
) -> Application:
    """``POST /transitions``. A decision (advance, move, reject, hire) made directly is a result
    released at once, so it is refused where the policy wants approval; withdraw and reopen are
    not results and always go straight through (a withdrawal cancels any open result)."""
    if expected_version is not None and expected_version != application.version:
        raise version_mismatch(application.version)
    job = await unit.session.get_one(Job, application.job_id)
    actor = actor_of(principal)
    if move.transition not in DECISIONS:
        if move.transition == "withdraw":
            existing = await open_result(unit.session, application.id)
            if existing is not None:
                await _close(unit, existing, "cancelled")
        return await apply_transition(
            unit=unit, application=application, job=job, move=move, actor=actor
        )
    policy = await policy_for(unit.session, job.job_type)
    if policy.gated:
        raise Problem(
            409,
            "Release approval required",
            f"Results of {job.job_type!r} jobs are released only after approval; create a "
            f"result at /v1/applications/{application.id}/results instead.",
            slug="release-approval-required",
            results_url=f"/v1/applications/{application.id}/results",
        )
    await _check_plannable(unit.session, application, job, move)
    await _refuse_if_open(unit.session, application.id)
    now = unit.clock.now()
    result = Result(
        id=uuid.uuid4(),
        application_id=application.id,
        stage_key=application.stage_key,
        decision=move.transition,
        to_stage=move.to_stage,
        reason_code=move.reason_code,
        internal_note=move.reason,
        policy_mode=policy.mode,
        state="released",
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    unit.session.add(result)
    await unit.session.flush()
    await release(
        unit=unit,
        result=result,
        application=application,
        job=job,
        actor=actor,
        reason=move.reason,
    )
    return application


async def _close(unit: UnitOfWork, result: Result, state: str) -> None:
    """End an open result (declined or cancelled): its open steps are skipped, its timers
    cancelled; the application is unchanged."""
    now = unit.clock.now()
    for step in await steps_of(unit.session, result.id):
        if step.state == "pending":
            await unit.timers.cancel(
                unit.session, kind=ESCALATION_TIMER, key=_escalation_key(step.id)
            )
        if step.state in ("pending", "waiting"):
            step.state = "skipped"
    await unit.timers.cancel(unit.session, kind=RELEASE_TIMER, key=_release_key(result.id))
    result.state = state
    result.updated_at = now
    await unit.session.flush()


def _refuse_unless_pending(result: Result) -> None:
    if result.state != "pending_approval":
        raise conflict(
            f"The result is {result.state}; it no longer waits for approval.",
            slug="result-not-pending",
            state=result.state,
        )


def _my_turn(result: Result, steps: Sequence[ApprovalStep], principal: Principal) -> ApprovalStep:
    """The pending step, if it is the caller's; otherwise 403 (not in the chain) or 409."""
    mine = next((step for step in steps if step.approver_id == principal.subject), None)
    if mine is None:
        raise forbidden("Only the approvers named in the result's chain approve or decline it.")
    _refuse_unless_pending(result)
    if mine.state != "pending":
        if mine.state == "waiting":
            raise conflict(
                "It is not your turn yet; an earlier approver has to decide first.",
                slug="approval-out-of-turn",
                position=mine.position,
            )
        raise conflict(
            f"You already decided this result ({mine.state}).",
            slug="approval-already-decided",
            position=mine.position,
        )
    return mine


async def _load_for_decision(unit: UnitOfWork, result: Result) -> tuple[Application, Job]:
    application = await unit.session.get_one(
        Application, result.application_id, with_for_update=True
    )
    job = await unit.session.get_one(Job, application.job_id)
    return application, job


async def approve(
    *, unit: UnitOfWork, result: Result, principal: Principal, comment: str | None
) -> Result:
    """The current approver approves: the next approver's turn comes, or the chain is done and
    the result is released (or scheduled, if its ``release_at`` is later)."""
    steps = await steps_of(unit.session, result.id)
    step = _my_turn(result, steps, principal)
    application, job = await _load_for_decision(unit, result)
    now = unit.clock.now()
    step.state = "approved"
    step.decided_at = now
    step.comment = comment
    await unit.timers.cancel(unit.session, kind=ESCALATION_TIMER, key=_escalation_key(step.id))
    waiting = [s for s in steps if s.state == "waiting"]
    if waiting:
        policy = await policy_for(unit.session, job.job_type)
        await _open_step(
            unit, result, application, waiting[0], policy, waiting=len(waiting) - 1, now=now
        )
        return result
    if result.release_at is not None and result.release_at > now:
        result.state = "scheduled"
        result.expected_by = result.release_at
        result.updated_at = now
        await unit.session.flush()
        await _schedule_release(unit, result)
        return result
    return await release(
        unit=unit, result=result, application=application, job=job, actor=actor_of(principal)
    )


async def decline(
    *, unit: UnitOfWork, result: Result, principal: Principal, comment: str
) -> Result:
    """The current approver declines: the chain ends, the application is unchanged."""
    steps = await steps_of(unit.session, result.id)
    step = _my_turn(result, steps, principal)
    step.state = "declined"
    step.decided_at = unit.clock.now()
    step.comment = comment
    await _close(unit, result, "declined")
    return result


async def cancel(*, unit: UnitOfWork, result: Result, principal: Principal) -> Result:
    """HR (owning the job) or an admin withdraws a result that is not released yet."""
    if principal.role is not Role.ADMIN:
        job_owners = await unit.session.scalar(
            sa.select(Job.owner_ids)
            .join(Application, Application.job_id == Job.id)
            .where(Application.id == result.application_id)
        )
        if principal.subject not in (job_owners or []):
            raise forbidden("Only the job's HR owners or an admin cancel a result.")
    if result.state not in OPEN_STATES:
        raise conflict(
            f"The result is {result.state}; only an open result can be cancelled.",
            slug="result-not-open",
            state=result.state,
        )
    await _close(unit, result, "cancelled")
    return result


# Visibility: staff who may see the application, and approvers named in a result's chain.


def _visible_results(principal: Principal) -> sa.Select[Result]:
    statement = sa.select(Result)
    if principal.role is Role.ADMIN:
        return statement
    owned = (
        sa.select(Application.id)
        .join(Job, Job.id == Application.job_id)
        .where(Job.owner_ids.contains([principal.subject]))
    )
    named = sa.select(ApprovalStep.result_id).where(ApprovalStep.approver_id == principal.subject)
    return statement.where(sa.or_(Result.application_id.in_(owned), Result.id.in_(named)))


async def get_visible(
    *, session: AsyncSession, principal: Principal, result_id: uuid.UUID, for_update: bool
) -> Result | None:
    statement = _visible_results(principal).where(Result.id == result_id)
    if for_update:
        statement = statement.with_for_update(of=Result)
    return (await session.execute(statement)).scalar_one_or_none()


async def list_for_application(
    *, session: AsyncSession, principal: Principal, application_id: uuid.UUID, params: PageParams
) -> tuple[list[Result], str | None]:
    return await paginate(
        session,
        _visible_results(principal).where(Result.application_id == application_id),
        order_by=[Result.created_at, Result.id],
        params=params,
        descending=True,
    )


async def steps_by_result(
    session: AsyncSession, result_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ApprovalStep]]:
    grouped: dict[uuid.UUID, list[ApprovalStep]] = {result_id: [] for result_id in result_ids}
    if not result_ids:
        return grouped
    rows = await session.execute(
        sa.select(ApprovalStep)
        .where(ApprovalStep.result_id.in_(result_ids))
        .order_by(ApprovalStep.result_id, ApprovalStep.position)
    )
    for step in rows.scalars():
        grouped[step.result_id].append(step)
    return grouped


async def pending_for(
    *, session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[Any], str | None]:
    """The caller's turns: pending steps naming them, soonest due first."""
    statement = (
        sa.select(
            ApprovalStep.id,
            ApprovalStep.due_at,
            ApprovalStep.position,
            ApprovalStep.escalated_at,
            Result.id.label("result_id"),
            Result.decision,
            Result.to_stage,
            Result.reason_code,
            Result.created_by.label("requested_by"),
            Application.id.label("application_id"),
            Application.stage_key,
            Job.id.label("job_id"),
            Job.title.label("job_title"),
        )
        .join(Result, Result.id == ApprovalStep.result_id)
        .join(Application, Application.id == Result.application_id)
        .join(Job, Job.id == Application.job_id)
        .where(ApprovalStep.approver_id == principal.subject, ApprovalStep.state == "pending")
    )
    return await paginate(
        session,
        cast(sa.Select[Any], statement),
        order_by=[ApprovalStep.due_at, ApprovalStep.id],
        params=params,
    )


# Timers


async def release_scheduled(unit: UnitOfWork, result_id: uuid.UUID) -> None:
    """The release timer: release the result if it is still scheduled."""
    result = await unit.session.get(Result, result_id, with_for_update=True)
    if result is None or result.state != "scheduled":
        return
    application, job = await _load_for_decision(unit, result)
    try:
        async with unit.session.begin_nested():
            await release(unit=unit, result=result, application=application, job=job, actor=SYSTEM)
    except Problem as refused:
        # The application moved on in a way the decision no longer fits (it cannot be
        # withdrawn or moved directly while the result is open, but its job's stages may have
        # changed); cancelling is better than retrying forever.
        log.warning("result.release_refused", result_id=str(result_id), reason=refused.title)
        await unit.session.refresh(result)
        await _close(unit, result, "cancelled")


async def escalate(unit: UnitOfWork, step_id: uuid.UUID) -> None:
    """The escalation timer: an approver sat past their SLA."""
    step = await unit.session.get(ApprovalStep, step_id, with_for_update=True)
    if step is None or step.state != "pending" or step.escalated_at is not None:
        return
    result = await unit.session.get_one(Result, step.result_id)
    application = await unit.session.get_one(Application, result.application_id)
    job = await unit.session.get_one(Job, application.job_id)
    policy = await policy_for(unit.session, job.job_type)
    now = unit.clock.now()
    step.escalated_at = now
    await unit.session.flush()
    assert step.due_at is not None
    await unit.emit(
        ApprovalEscalatedV1(
            result_id=result.id,
            application_id=application.id,
            job_id=job.id,
            approver_id=step.approver_id,
            escalate_to=list(policy.escalate_to) or list(job.owner_ids),
            due_at=step.due_at,
            escalated_at=now,
        ),
        subject=str(result.id),
        sequence=result.version,
    )
