"""Decisions the system makes from an AI interview's score, under the job's thresholds.

They go through ``results.service.decide`` like anyone's, so the job type's release policy
applies (under an approval policy they wait for the approvers). Without thresholds on the job
nothing moves; a low score rejects only where the job set ``ai_reject_below_score``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import sqlalchemy as sa

from pipeline.ai_interviews.models import AiInterview
from pipeline.ai_interviews.status import automatic_decision
from pipeline.applications.models import Application
from pipeline.jobs.models import Job
from pipeline.results.models import Result
from pipeline.results.schemas import ResultCreate
from pipeline.results.service import OPEN_STATES, decide
from shared.events.pipeline import Actor
from shared.logging import get_logger
from shared.problems import Problem
from shared.unit import UnitOfWork

log = get_logger(__name__)

ACTOR = Actor(kind="system", id="ai_interview")
# The rejection reason an automatic rejection names; an admin configures it (with the labels
# the candidate sees) to let jobs with ``ai_reject_below_score`` reject at all.
REJECT_REASON = "failed_interview"
AI_INTERVIEW_KIND = "ai_interview"


async def decide_on_score(
    *, unit: UnitOfWork, application_id: uuid.UUID, interview_id: uuid.UUID
) -> None:
    """Advance (or reject) the application on its AI interview's score if its job says so and
    it is still active in an AI-interview stage; at most once per stage."""
    session = unit.session
    application = (
        await session.execute(
            sa.select(Application).where(Application.id == application_id).with_for_update()
        )
    ).scalar_one_or_none()
    if application is None or application.status != "active":
        return
    job = await session.get_one(Job, application.job_id)
    if job.ai_advance_min_score is None and job.ai_reject_below_score is None:
        return
    stage = job.stage(application.stage_key)
    if stage is None or stage["kind"] != AI_INTERVIEW_KIND:
        return
    interview = await session.get(AiInterview, interview_id)
    if interview is None or interview.application_id != application.id or interview.score is None:
        return
    verdict = automatic_decision(
        interview.score,
        advance_min=job.ai_advance_min_score,
        reject_below=job.ai_reject_below_score,
    )
    if verdict is None or await _already_decided(unit, application):
        return
    decision = ResultCreate(
        decision=verdict,
        reason_code=REJECT_REASON if verdict == "reject" else None,
        score=interview.score,
        dimension_scores={
            name: Decimal(str(value)) for name, value in (interview.dimension_scores or {}).items()
        }
        or None,
        internal_note=_note(verdict, interview, job),
    )
    try:
        # A savepoint, so a refused decision leaves nothing half-written behind.
        async with session.begin_nested():
            result = await decide(
                unit=unit, application=application, job=job, decision=decision, actor=ACTOR
            )
    except Problem as refused:
        # Retrying cannot change a refusal (a stage the state machine will not allow, a missing
        # rejection reason): log it and leave the decision to people.
        log.warning(
            "ai_interview.auto_decision_refused",
            application_id=str(application.id),
            decision=verdict,
            problem=refused.type,
        )
        return
    log.info(
        "ai_interview.auto_decision",
        application_id=str(application.id),
        result_id=str(result.id),
        decision=verdict,
        result_state=result.state,
    )


async def _already_decided(unit: UnitOfWork, application: Application) -> bool:
    """Someone (people, or this handler for the other event of the same interview) already made
    a decision about the current stage, or one is on its way: the machine stays out."""
    existing = await unit.session.scalar(
        sa.select(Result.id)
        .where(
            Result.application_id == application.id,
            sa.or_(Result.stage_key == application.stage_key, Result.state.in_(OPEN_STATES)),
        )
        .limit(1)
    )
    return existing is not None


def _note(verdict: str, interview: AiInterview, job: Job) -> str:
    if verdict == "advance":
        rule = f"reached the job's advance threshold {job.ai_advance_min_score}"
    else:
        rule = f"is below the job's rejection threshold {job.ai_reject_below_score}"
    return f"Automatic: AI interview score {interview.score} ({interview.vendor}) {rule}."
