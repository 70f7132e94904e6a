"""The candidate's portal: link tokens for an application, the status view (one query), and the
candidate's request for a human review."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.ai_interviews.models import AiInterview
from pipeline.applications.models import Application, StageChange
from pipeline.candidates.models import Candidate
from pipeline.jobs.models import Job
from pipeline.messages.models import Message
from pipeline.policies.models import RejectionReason
from pipeline.portal import i18n, timeline
from pipeline.portal.schemas import (
    AiInterviewStatus,
    LinkIssued,
    LinkRead,
    MessageSummary,
    PortalView,
    ReleasedResult,
    ReviewProgress,
    TimelineStage,
)
from pipeline.results.models import ApprovalStep, Result
from shared.auth.link_tokens import LinkRecord, LinkTokens
from shared.calendar import BusinessCalendar
from shared.events.pipeline import HumanReviewRequestedV1
from shared.problems import conflict
from shared.unit import UnitOfWork

PURPOSE = "candidate_portal"


# Links


async def issue_link(
    *,
    unit: UnitOfWork,
    tokens: LinkTokens,
    application_id: uuid.UUID,
    ttl: timedelta,
    revoke_previous: bool,
) -> LinkIssued:
    subject = str(application_id)
    if revoke_previous:
        await tokens.revoke_all(unit.session, purpose=PURPOSE, subject_id=subject)
    issued = await tokens.issue(
        unit.session, purpose=PURPOSE, subject_id=subject, expires_at=unit.clock.now() + ttl
    )
    return LinkIssued(id=issued.id, token=issued.token, expires_at=issued.expires_at)


def link_read(record: LinkRecord, now: datetime) -> LinkRead:
    state = (
        "revoked"
        if record.revoked_at is not None
        else "expired"
        if record.expires_at <= now
        else "active"
    )
    return LinkRead(
        id=record.id,
        created_at=record.created_at,
        expires_at=record.expires_at,
        revoked_at=record.revoked_at,
        last_used_at=record.last_used_at,
        state=state,
    )


# The status view: everything in one statement, each list aggregated to JSON by PostgreSQL.
# Written against the tables, not the mapped classes: an ORM-enabled select goes through the
# ORM's compile and loading steps on every execution, for rows that are plain tuples anyway.

_jobs = cast(sa.Table, Job.__table__)
_candidates = cast(sa.Table, Candidate.__table__)
_reasons = cast(sa.Table, RejectionReason.__table__)
_app = cast(sa.Table, Application.__table__).c
_job = _jobs.c
_reason = _reasons.c
_sc = cast(sa.Table, StageChange.__table__).c
_res = cast(sa.Table, Result.__table__).c
_step = cast(sa.Table, ApprovalStep.__table__).c
_ai = cast(sa.Table, AiInterview.__table__).c
_msg = cast(sa.Table, Message.__table__).c

_changes = (
    sa.select(
        sa.func.coalesce(
            sa.func.jsonb_agg(
                aggregate_order_by(
                    sa.func.jsonb_build_array(_sc.from_stage, _sc.to_stage, _sc.occurred_at),
                    _sc.version,
                )
            ),
            sa.text("'[]'::jsonb"),
        )
    )
    .where(_sc.application_id == _app.id)
    .scalar_subquery()
)
_released = (
    sa.select(
        sa.func.coalesce(
            sa.func.jsonb_agg(
                aggregate_order_by(
                    sa.func.jsonb_build_object(
                        "stage_key",
                        _res.stage_key,
                        "decision",
                        _res.decision,
                        "score",
                        _res.score,
                        "dimension_scores",
                        _res.dimension_scores,
                        "message",
                        _res.candidate_message,
                        "released_at",
                        _res.released_at,
                    ),
                    _res.released_at,
                )
            ),
            sa.text("'[]'::jsonb"),
        )
    )
    .where(_res.application_id == _app.id, _res.state == "released")
    .scalar_subquery()
)
_open_result = (
    sa.select(
        sa.func.jsonb_build_object(
            "state",
            _res.state,
            "expected_by",
            sa.func.coalesce(_res.expected_by, _res.release_at),
            "steps_total",
            sa.select(sa.func.count()).where(_step.result_id == _res.id).scalar_subquery(),
            "steps_done",
            sa.select(sa.func.count())
            .where(
                _step.result_id == _res.id,
                _step.state.in_(("approved", "skipped")),
            )
            .scalar_subquery(),
        )
    )
    .where(
        _res.application_id == _app.id,
        _res.state.in_(("pending_approval", "scheduled")),
    )
    .limit(1)
    .scalar_subquery()
)
_ai_interviews = (
    sa.select(
        sa.func.coalesce(
            sa.func.jsonb_agg(
                aggregate_order_by(
                    sa.func.jsonb_build_object(
                        "status",
                        _ai.status,
                        "invited_at",
                        _ai.invited_at,
                        "started_at",
                        _ai.started_at,
                        "completed_at",
                        _ai.completed_at,
                        "expired_at",
                        _ai.expired_at,
                    ),
                    _ai.updated_at,
                )
            ),
            sa.text("'[]'::jsonb"),
        )
    )
    .where(_ai.application_id == _app.id)
    .scalar_subquery()
)
_messages = (
    sa.select(
        sa.func.jsonb_build_array(
            sa.func.count(),
            sa.func.count().filter(_msg.sender_kind != "candidate", _msg.read_at.is_(None)),
            sa.func.max(_msg.created_at),
        )
    )
    .where(_msg.application_id == _app.id)
    .scalar_subquery()
)
_VIEW = (
    sa.select(
        _app.id,
        _app.stage_key,
        _app.status,
        _app.stage_entered_at,
        _app.created_at,
        _app.human_review_requested_at,
        _job.title,
        _job.stages,
        _reason.label_zh,
        _reason.label_en,
        _reason.candidate_visible,
        sa.type_coerce(_changes, JSONB).label("changes"),
        sa.type_coerce(_released, JSONB).label("released"),
        sa.type_coerce(_open_result, JSONB).label("open_result"),
        sa.type_coerce(_ai_interviews, JSONB).label("ai_interviews"),
        sa.type_coerce(_messages, JSONB).label("messages"),
        _candidates.c.locale.label("candidate_locale"),
    )
    .join(_jobs, _job.id == _app.job_id)
    .outerjoin(_candidates, _candidates.c.id == _app.candidate_id)
    .outerjoin(_reasons, _reason.code == _app.rejection_reason)
    .where(_app.id == sa.bindparam("application_id"))
)


def _utc(moment: datetime | None) -> datetime | None:
    # Due dates are counted in China's zone; like every time in the API they are shown in UTC.
    return moment.astimezone(UTC) if moment is not None else None


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _scores(value: dict[str, Any] | None) -> dict[str, Decimal] | None:
    if not value:
        return None
    return {str(k): Decimal(str(v)) for k, v in value.items() if isinstance(v, int | float | str)}


async def view(
    *,
    session: AsyncSession,
    application_id: uuid.UUID,
    calendar: BusinessCalendar,
    now: datetime,
    locale: i18n.Locale | None,
) -> PortalView | None:
    """The candidate's view of their application, or None if it no longer exists; in
    ``locale``, or when the request named neither language, in the one the candidate chose."""
    row = (await session.execute(_VIEW, {"application_id": application_id})).first()
    if row is None:
        return None
    if locale is None:
        locale = i18n.negotiate(row.candidate_locale)
    zh = locale == "zh-CN"
    stages: list[dict[str, Any]] = row.stages
    names = {stage["key"]: stage["name_zh" if zh else "name_en"] for stage in stages}
    built = timeline.build(
        stages=stages,
        stage_key=row.stage_key,
        status=row.status,
        stage_entered_at=row.stage_entered_at,
        created_at=row.created_at,
        changes=[
            timeline.Change(from_stage, to_stage, cast(datetime, _at(at)))
            for from_stage, to_stage, at in row.changes
        ],
        calendar=calendar,
        now=now,
    )
    current = next((e for e in built.entries if e.state in ("current", "ended")), None)
    review = None
    if row.open_result is not None:
        open_result = row.open_result
        expected_by = _at(open_result["expected_by"])
        review = ReviewProgress(
            state="scheduled" if open_result["state"] == "scheduled" else "under_review",
            label=i18n.under_review(expected_by, locale),
            expected_by=expected_by,
            steps_done=open_result["steps_done"],
            steps_total=open_result["steps_total"],
        )
    total, unread, last_message_at = row.messages
    rejection = None
    if row.status == "rejected" and row.candidate_visible:
        rejection = row.label_zh if zh else row.label_en
    return PortalView(
        application_id=row.id,
        locale=locale,
        job_title=row.title,
        status=row.status,
        status_label=i18n.label(i18n.STATUS, row.status, locale),
        rejection_reason=rejection,
        current_stage=current.key if current else None,
        expected_by=_utc(current.expected_by) if current else None,
        overdue=current.overdue if current else False,
        calendar_known=built.calendar_known,
        timeline=[
            TimelineStage(
                key=entry.key,
                kind=entry.kind,
                label=entry.name_zh if zh else entry.name_en,
                state=entry.state,
                entered_at=entry.entered_at,
                left_at=entry.left_at,
                expected_by=_utc(entry.expected_by),
                overdue=entry.overdue,
            )
            for entry in built.entries
        ],
        review=review,
        results=[
            ReleasedResult(
                stage_key=result["stage_key"],
                stage_label=names.get(result["stage_key"], result["stage_key"]),
                decision=result["decision"],
                score=Decimal(str(result["score"])) if result["score"] is not None else None,
                dimension_scores=_scores(result["dimension_scores"]),
                message=result["message"],
                released_at=_at(result["released_at"]),
            )
            for result in row.released
        ],
        ai_interviews=[
            AiInterviewStatus(
                status=interview["status"],
                label=i18n.label(i18n.AI_INTERVIEW_STATUS, interview["status"], locale),
                invited_at=_at(interview["invited_at"]),
                started_at=_at(interview["started_at"]),
                completed_at=_at(interview["completed_at"]),
                expired_at=_at(interview["expired_at"]),
            )
            for interview in row.ai_interviews
        ],
        human_review_requested_at=row.human_review_requested_at,
        messages=MessageSummary(total=total, unread=unread, last_message_at=_at(last_message_at)),
    )


# Human review


async def request_human_review(*, unit: UnitOfWork, application: Application, job: Job) -> datetime:
    """Record the candidate's request for a person to review an AI-based decision; once."""
    if application.human_review_requested_at is not None:
        raise conflict(
            "A human review was already requested for this application.",
            slug="human-review-already-requested",
            requested_at=application.human_review_requested_at.isoformat(),
        )
    now = unit.clock.now()
    application.human_review_requested_at = now
    application.updated_at = now
    await unit.session.flush()  # bumps the version: the event's sequence
    await unit.emit(
        HumanReviewRequestedV1(
            application_id=application.id,
            job_id=job.id,
            candidate_id=application.candidate_id,
            owner_ids=list(job.owner_ids),
            requested_at=now,
        ),
        subject=str(application.id),
        sequence=application.version,
    )
    return now
