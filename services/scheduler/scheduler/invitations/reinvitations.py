"""The talent pool's re-invitations of the no-show group: a new AI-interview invitation on the
application the person made, once the last one lapsed.

Only re-invitations naming an application (those without one are the pipeline's: it creates a
new application). The new invitation is opened when the application's last AI-interview
invitation expired (its make-up window is closed first) or was closed at its deadline, and the
application has not changed since (no stage change or rejection newer than that invitation).
Otherwise nothing happens and a log line says why: the invitation is still waiting, was
completed or cancelled, or the application moved on or is unknown here.
"""

from __future__ import annotations

import sqlalchemy as sa

from scheduler.consumers import handlers
from scheduler.interview_needs.models import ApplicationStage
from scheduler.invitations import service
from scheduler.invitations.models import Invitation
from shared.events.envelope import ReceivedEvent
from shared.events.talentpool import ReinvitationRequestedV1
from shared.logging import get_logger
from shared.unit import UnitOfWork

log = get_logger(__name__)

AI_INTERVIEW_STAGE_KIND = "ai_interview"
LAPSED = ("expired", "closed")
CREATED_BY = "talentpool"


@handlers.on(ReinvitationRequestedV1, name="scheduler.reopen_ai_invitation")
async def reopen_ai_invitation(
    unit: UnitOfWork, event: ReceivedEvent[ReinvitationRequestedV1]
) -> None:
    data = event.data
    if data.application_id is None:
        return
    session = unit.session
    ids = {
        "reinvitation_id": str(data.reinvitation_id),
        "application_id": str(data.application_id),
    }
    # Locked, so a deadline timer or a second re-invitation handled at the same time waits.
    last = (
        await session.execute(
            sa.select(Invitation)
            .where(
                Invitation.application_id == data.application_id,
                Invitation.kind == service.AI,
            )
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
            .limit(1)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if last is None:
        log.info("invitations.reinvitation_ignored", reason="no_ai_invitation", **ids)
        return
    if last.state not in LAPSED:
        log.info("invitations.reinvitation_ignored", reason=f"invitation_{last.state}", **ids)
        return
    stage = await session.get(ApplicationStage, data.application_id)
    if stage is not None and (
        stage.stage_kind != AI_INTERVIEW_STAGE_KIND
        or stage.application_version > (last.application_version or 0)
    ):
        log.info("invitations.reinvitation_ignored", reason="application_changed", **ids)
        return
    now = unit.clock.now()
    if last.state == "expired":
        # Its make-up window gives way to the new invitation (one waiting per application).
        await session.execute(
            sa.update(Invitation)
            .where(Invitation.id == last.id)
            .values(state="closed", closed_at=now, updated_at=now, version=Invitation.version + 1)
            .execution_options(synchronize_session=False)
        )
        await unit.timers.cancel_by_key_prefix(session, key_prefix=service.timer_prefix(last.id))
    await service.open_ai_invitation(
        unit=unit,
        application_id=data.application_id,
        job_id=last.job_id,
        candidate_id=last.candidate_id,
        application_version=last.application_version or 0,
        sent_at=now,
        created_by=CREATED_BY,
    )
    log.info("invitations.reinvitation_opened", **ids)
