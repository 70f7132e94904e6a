"""Who may touch an interview: staff of its job (admins: all; HR: jobs they own), interviewers
who are on it, and the candidate through their invitation's link. Anyone else gets a 404, so
interview ids cannot be probed."""

from __future__ import annotations

import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Path

from scheduler.interviewers.models import Interviewer
from scheduler.interviews import service
from scheduler.interviews.models import Interview
from scheduler.invitations.dependencies import CandidateInvitation
from shared.auth.principal import Principal, Role
from shared.http.dependencies import CurrentPrincipal, Staff, Unit, require_role
from shared.problems import not_found

InterviewId = Annotated[uuid.UUID, Path(description="The interview's id.")]


async def _load(
    unit: Unit, principal: Principal, interview_id: uuid.UUID, *, for_update: bool
) -> Interview:
    interview = await service.get_visible(
        session=unit.session,
        principal=principal,
        interview_id=interview_id,
        for_update=for_update,
    )
    if interview is None:
        raise not_found("interview", interview_id)
    return interview


async def readable_interview(
    interview_id: InterviewId, unit: Unit, principal: CurrentPrincipal
) -> Interview:
    """Staff of its job, or an interviewer on it."""
    return await _load(unit, principal, interview_id, for_update=False)


async def locked_staff_interview(
    interview_id: InterviewId, unit: Unit, principal: Staff
) -> Interview:
    """Staff of its job only, locked until the request's transaction ends."""
    return await _load(unit, principal, interview_id, for_update=True)


Interviewers = Annotated[Principal, Depends(require_role(Role.INTERVIEWER))]


async def current_interviewer(unit: Unit, principal: Interviewers) -> Interviewer:
    """The caller's own interviewer record (404 if the scheduler has none for their subject)."""
    interviewer = await service.interviewer_of(unit.session, principal)
    if interviewer is None:
        raise not_found("interviewer for subject", principal.subject)
    return interviewer


CurrentInterviewer = Annotated[Interviewer, Depends(current_interviewer)]


async def locked_own_interview(
    interview_id: InterviewId, unit: Unit, principal: Interviewers
) -> Interview:
    """An interview the calling interviewer is on, locked."""
    return await _load(unit, principal, interview_id, for_update=True)


async def candidate_interview(invitation: CandidateInvitation, unit: Unit) -> Interview:
    """The interview booked through the caller's invitation, locked (404 before a booking)."""
    interview = (
        await unit.session.execute(
            sa.select(Interview)
            .where(Interview.invitation_id == invitation.id)
            .order_by(Interview.created_at.desc(), Interview.id)
            .limit(1)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if interview is None:
        raise not_found("interview for invitation", invitation.id)
    return interview


ReadableInterview = Annotated[Interview, Depends(readable_interview)]
LockedStaffInterview = Annotated[Interview, Depends(locked_staff_interview)]
LockedOwnInterview = Annotated[Interview, Depends(locked_own_interview)]
CandidateInterview = Annotated[Interview, Depends(candidate_interview)]
