"""The pipeline's events that open and close AI-interview invitations."""

from __future__ import annotations

import sqlalchemy as sa

from scheduler.consumers import handlers
from scheduler.interview_needs.models import ApplicationStage
from scheduler.invitations import service
from scheduler.invitations.models import Invitation
from shared.events.envelope import ReceivedEvent
from shared.events.pipeline import AiInterviewCompletedV1, ApplicationCreatedV1, StageChangedV1
from shared.unit import UnitOfWork

AI_INTERVIEW_STAGE_KIND = "ai_interview"
ENDED = ("rejected", "withdrawn")


@handlers.on(StageChangedV1, name="scheduler.track_ai_interview_invitation")
async def track_ai_interview_invitation(
    unit: UnitOfWork, event: ReceivedEvent[StageChangedV1]
) -> None:
    """Entering an AI-interview stage opens an ``ai_interview`` invitation; leaving it, or the
    application being rejected or withdrawn, cancels it (a rejection or withdrawal also
    cancels a waiting live-interview invitation). Stale events are ignored: the application's
    newest known version is the one ``scheduler.track_interview_need`` records in the same
    transaction, and each invitation remembers the version that made it."""
    data = event.data
    version = event.envelope.sequence or 0
    newest = (
        await unit.session.execute(
            sa.select(ApplicationStage.application_version).where(
                ApplicationStage.application_id == data.application_id
            )
        )
    ).scalar_one_or_none()
    if newest is not None and newest > version:
        return
    if data.status in ENDED:
        await service.close_ai_invitations(
            unit=unit,
            application_id=data.application_id,
            state="cancelled",
            application_version=version,
        )
        await service.cancel_waiting(
            unit=unit, application_id=data.application_id, kind=service.LIVE
        )
        return
    if data.to_stage.kind != AI_INTERVIEW_STAGE_KIND:
        await service.close_ai_invitations(
            unit=unit,
            application_id=data.application_id,
            state="cancelled",
            application_version=version,
        )
        return
    known = (
        await unit.session.execute(
            sa.select(sa.func.max(Invitation.application_version)).where(
                Invitation.application_id == data.application_id,
                Invitation.kind == service.AI,
            )
        )
    ).scalar_one_or_none()
    if known is not None and known >= version:
        return
    await service.open_ai_invitation(
        unit=unit,
        application_id=data.application_id,
        job_id=data.job_id,
        candidate_id=data.candidate_id,
        application_version=version,
        sent_at=data.occurred_at,
    )


@handlers.on(ApplicationCreatedV1, name="scheduler.invite_new_application_to_ai_interview")
async def invite_new_application_to_ai_interview(
    unit: UnitOfWork, event: ReceivedEvent[ApplicationCreatedV1]
) -> None:
    """An application that starts in an AI-interview stage (the usual first stage) gets its
    ``ai_interview`` invitation like one that moves into it later. Ignored when a newer stage
    change of the application was already handled, or an invitation exists."""
    data = event.data
    if data.stage.kind != AI_INTERVIEW_STAGE_KIND:
        return
    version = event.envelope.sequence or 1
    newest = (
        await unit.session.execute(
            sa.select(ApplicationStage.application_version).where(
                ApplicationStage.application_id == data.application_id
            )
        )
    ).scalar_one_or_none()
    if newest is not None and newest > version:
        return
    known = (
        await unit.session.execute(
            sa.select(sa.func.count()).where(
                Invitation.application_id == data.application_id,
                Invitation.kind == service.AI,
            )
        )
    ).scalar_one()
    if known:
        return
    await service.open_ai_invitation(
        unit=unit,
        application_id=data.application_id,
        job_id=data.job_id,
        candidate_id=data.candidate_id,
        application_version=version,
        sent_at=data.occurred_at,
    )


@handlers.on(AiInterviewCompletedV1, name="scheduler.complete_ai_interview_invitation")
async def complete_ai_interview_invitation(
    unit: UnitOfWork, event: ReceivedEvent[AiInterviewCompletedV1]
) -> None:
    """The candidate completed the AI interview: the invitation is done, its reminders and
    deadline are cancelled."""
    await service.close_ai_invitations(
        unit=unit,
        application_id=event.data.application_id,
        state="completed",
        application_version=None,
    )
