from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from scheduler.interviews import service
from scheduler.interviews.dependencies import (
    CandidateInterview,
    CurrentInterviewer,
    LockedOwnInterview,
    LockedStaffInterview,
    ReadableInterview,
)
from scheduler.interviews.models import Interview, InterviewParticipant
from scheduler.interviews.schemas import (
    AcceptRequest,
    BookingCreate,
    CancelRequest,
    CandidateInterviewRead,
    CandidateReschedule,
    DeclineRequest,
    InterviewRead,
    InterviewState,
    ParticipantRead,
    RescheduleRequest,
)
from scheduler.proposals.dependencies import VisibleProposal
from scheduler.proposals.models import Proposal
from scheduler.rooms.models import Room
from scheduler.settings import SchedulerSettings
from shared import ics
from shared.auth.principal import Principal, Role
from shared.http.app import json_response
from shared.http.dependencies import (
    CurrentPrincipal,
    IdempotencyDep,
    IfMatch,
    RuntimeDep,
    Staff,
    Unit,
)
from shared.http.errors import render
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses, not_found, version_mismatch

router = APIRouter(tags=["interviews"])

_NO_STORE = {"Cache-Control": "no-store"}
_CALENDAR_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            ics.MEDIA_TYPE: {
                "schema": {"type": "string"},
                "example": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n...",
            }
        },
        "description": "An RFC 5545 iCalendar file (METHOD:REQUEST, or CANCEL once cancelled).",
    }
}


def _reminder_minutes(runtime: Any) -> list[int]:
    settings = runtime.settings
    assert isinstance(settings, SchedulerSettings)
    return list(settings.interview_reminder_minutes)


async def _read(unit: Unit, interview: Interview, *, status_code: int = 200) -> Response:
    participants = await service.participants_of(unit.session, interview.id)
    return json_response(
        _model(interview, participants),
        status_code=status_code,
        headers={"ETag": f'"{interview.version}"', "Location": f"/v1/interviews/{interview.id}"},
    )


def _model(interview: Interview, participants: list[InterviewParticipant]) -> InterviewRead:
    data = {c: getattr(interview, c) for c in InterviewRead.model_fields if c != "participants"}
    return InterviewRead(
        **data, participants=[ParticipantRead.model_validate(p) for p in participants]
    )


def _cancelled_by(principal: Principal) -> service.CancelledBy:
    return "admin" if principal.role is Role.ADMIN else "hr"


def _check_version(interview: Interview, expected: int | None) -> None:
    if expected is not None and expected != interview.version:
        raise version_mismatch(interview.version)


# Booking (HR and admins).


@router.post(
    "/v1/proposals/{proposal_id}/bookings",
    status_code=201,
    response_model=InterviewRead,
    summary="Book a suggestion of the proposal (by index) or a slot of your own",
    description="Every interviewer and the room are held for the slot (buffers included) all "
    "or nothing. 409 `slot-taken` when it was taken meanwhile: the problem carries "
    "`proposal_id` and `suggestions` of a fresh proposal. 409 `already-booked` when the "
    "proposal already has an interview; 422 `slot-not-offered` for an index it does not have.",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def book(
    proposal: VisibleProposal,
    body: BookingCreate,
    unit: Unit,
    principal: Staff,
    runtime: RuntimeDep,
    idempotency: IdempotencyDep,
    request: Request,
) -> Response:
    async def produce() -> Response:
        try:
            interview = await service.book(
                unit=unit,
                proposal=proposal,
                slot_index=body.slot_index,
                slot=body.slot,
                actor=principal.subject,
                reminder_minutes=_reminder_minutes(runtime),
            )
        except service.SlotTaken as taken:
            # Answered, not raised: the fresh proposal commits.
            return render(request, taken)
        return await _read(unit, interview, status_code=201)

    return await idempotency.run(unit, produce)


# Reads.


@router.get(
    "/v1/interviews",
    response_model=Page[InterviewRead],
    summary="Interviews of the caller's jobs (admins: all), soonest first",
    responses=error_responses(400, 401, 403, 422),
)
async def list_interviews(
    unit: Unit,
    principal: Staff,
    page: PageQuery,
    job_id: Annotated[uuid.UUID | None, Query(description="Only this job's.")] = None,
    state: Annotated[InterviewState | None, Query(description="Only in this state.")] = None,
) -> Page[InterviewRead]:
    interviews, next_cursor = await service.list_visible(
        session=unit.session, principal=principal, params=page, job_id=job_id, state=state
    )
    return await _page(unit, interviews, next_cursor)


async def _page(
    unit: Unit, interviews: list[Interview], next_cursor: str | None
) -> Page[InterviewRead]:
    participants = await service.participants_by_interview(unit.session, [i.id for i in interviews])
    return Page[InterviewRead](
        items=[_model(i, participants[i.id]) for i in interviews], next_cursor=next_cursor
    )


@router.get(
    "/v1/interviewers/me/interviews",
    response_model=Page[InterviewRead],
    summary="The calling interviewer's own interviews, soonest first",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def my_interviews(
    unit: Unit,
    interviewer: CurrentInterviewer,
    page: PageQuery,
    state: Annotated[InterviewState | None, Query(description="Only in this state.")] = None,
    since: Annotated[
        datetime | None, Query(description="Only those ending after this moment.")
    ] = None,
) -> Page[InterviewRead]:
    interviews, next_cursor = await service.list_for_interviewer(
        session=unit.session,
        interviewer_id=interviewer.id,
        params=page,
        state=state,
        since=since,
    )
    return await _page(unit, interviews, next_cursor)


@router.get(
    "/v1/interviews/{interview_id}",
    response_model=InterviewRead,
    summary="One interview (staff of its job, or an interviewer on it); its ETag is its version",
    responses=error_responses(401, 403, 404, 422),
)
async def get_interview(interview: ReadableInterview, unit: Unit) -> Response:
    return await _read(unit, interview)


@router.get(
    "/v1/interviews/{interview_id}/calendar.ics",
    response_class=Response,
    summary="The interview as an iCalendar file (staff of its job, or an interviewer on it)",
    responses={**_CALENDAR_RESPONSE, **error_responses(401, 403, 404, 422)},
)
async def interview_calendar(
    interview: ReadableInterview, unit: Unit, principal: CurrentPrincipal
) -> Response:
    viewer: service.Viewer = "staff"
    if principal.role is Role.INTERVIEWER:
        interviewer = await service.interviewer_of(unit.session, principal)
        assert interviewer is not None  # the dependency found them on the interview
        viewer = interviewer.id
    body = await service.calendar_file(unit.session, interview, viewer=viewer)
    return _calendar(body, interview)


def _calendar(body: bytes, interview: Interview) -> Response:
    return Response(
        content=body,
        media_type=f"{ics.MEDIA_TYPE}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="interview-{interview.id}.ics"',
            **_NO_STORE,
        },
    )


# Interviewers answer.


@router.post(
    "/v1/interviews/{interview_id}/accept",
    response_model=InterviewRead,
    summary="Accept your place on an interview; when all have, it is confirmed",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def accept(
    interview: LockedOwnInterview,
    interviewer: CurrentInterviewer,
    unit: Unit,
    body: AcceptRequest | None = None,
) -> Response:
    updated = await service.respond(
        unit=unit,
        interview=interview,
        interviewer=interviewer,
        accept=True,
        comment=body.comment if body else None,
    )
    return await _read(unit, updated)


@router.post(
    "/v1/interviews/{interview_id}/decline",
    response_model=InterviewRead,
    summary="Decline your place: a free pool member stands in, or the slot is freed and "
    "re-proposed",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def decline(
    interview: LockedOwnInterview,
    interviewer: CurrentInterviewer,
    unit: Unit,
    body: DeclineRequest | None = None,
) -> Response:
    updated = await service.respond(
        unit=unit,
        interview=interview,
        interviewer=interviewer,
        accept=False,
        comment=body.comment if body else None,
    )
    return await _read(unit, updated)


# Cancel and reschedule (HR and admins).


@router.post(
    "/v1/interviews/{interview_id}/cancel",
    response_model=InterviewRead,
    summary="Cancel an interview with a reason: its resources are freed and reminders dropped",
    responses=error_responses(400, 401, 403, 404, 409, 412, 422),
)
async def cancel(
    interview: LockedStaffInterview,
    body: CancelRequest,
    unit: Unit,
    principal: Staff,
    expected_version: IfMatch,
) -> Response:
    _check_version(interview, expected_version)
    updated = await service.cancel(
        unit=unit, interview=interview, cancelled_by=_cancelled_by(principal), reason=body.reason
    )
    return await _read(unit, updated)


async def _proposal_for(
    unit: Unit, interview: Interview, proposal_id: uuid.UUID | None
) -> Proposal:
    wanted = proposal_id or interview.proposal_id
    proposal = await unit.session.get(Proposal, wanted) if wanted else None
    # Only a proposal for the same application: anything else is as good as unknown.
    if proposal is None or proposal.application_id != interview.application_id:
        raise not_found("proposal for this interview's application", wanted)
    return proposal


@router.post(
    "/v1/interviews/{interview_id}/reschedule",
    response_model=InterviewRead,
    summary="Move an interview to another suggestion or slot, all or nothing",
    description="The old bookings are released and the new ones made in one transaction; "
    "SEQUENCE of the iCalendar file grows and reminders move. 409 `slot-taken` (with fresh "
    "suggestions) leaves the interview as it was.",
    responses=error_responses(400, 401, 403, 404, 409, 412, 422),
)
async def reschedule(
    interview: LockedStaffInterview,
    body: RescheduleRequest,
    unit: Unit,
    principal: Staff,
    runtime: RuntimeDep,
    expected_version: IfMatch,
    request: Request,
) -> Response:
    _check_version(interview, expected_version)
    proposal = await _proposal_for(unit, interview, body.proposal_id)
    try:
        updated = await service.reschedule(
            unit=unit,
            interview=interview,
            proposal=proposal,
            slot_index=body.slot_index,
            slot=body.slot,
            actor=principal.subject,
            reminder_minutes=_reminder_minutes(runtime),
        )
    except service.SlotTaken as taken:
        return render(request, taken)
    return await _read(unit, updated)


# The candidate, through their invitation's link.


async def _candidate_view(unit: Unit, interview: Interview) -> CandidateInterviewRead:
    participants = await service.participants_of(unit.session, interview.id)
    location = None
    if interview.room_id is not None:
        room = await unit.session.get(Room, interview.room_id)
        location = f"{room.location}: {room.name}" if room is not None else None
    zone = service.zone_of(interview.candidate_time_zone)
    return CandidateInterviewRead(
        id=interview.id,
        state=interview.state,
        starts_at=interview.starts_at,
        ends_at=interview.ends_at,
        time_zone=interview.candidate_time_zone,
        local_start=interview.starts_at.astimezone(zone).isoformat(),
        remote=interview.remote,
        location=location,
        interviewers=sum(1 for p in participants if p.response not in ("declined", "replaced")),
        proposal_id=interview.proposal_id,
        cancel_reason=interview.cancel_reason,
    )


@router.get(
    "/v1/candidate/interview",
    response_model=CandidateInterviewRead,
    summary="The candidate's interview: when and where (through their invitation's link)",
    responses=error_responses(401, 404, 410),
)
async def get_candidate_interview(interview: CandidateInterview, unit: Unit) -> Response:
    return json_response(await _candidate_view(unit, interview), headers=_NO_STORE)


@router.get(
    "/v1/candidate/interview/calendar.ics",
    response_class=Response,
    summary="The candidate's interview as an iCalendar file",
    responses={**_CALENDAR_RESPONSE, **error_responses(401, 404, 410)},
)
async def candidate_calendar(interview: CandidateInterview, unit: Unit) -> Response:
    body = await service.calendar_file(unit.session, interview, viewer="candidate")
    return _calendar(body, interview)


@router.post(
    "/v1/candidate/interview/cancel",
    response_model=CandidateInterviewRead,
    summary="The candidate cancels their interview, with a reason",
    responses=error_responses(401, 404, 409, 410, 422),
)
async def candidate_cancel(
    interview: CandidateInterview, body: CancelRequest, unit: Unit
) -> Response:
    updated = await service.cancel(
        unit=unit, interview=interview, cancelled_by="candidate", reason=body.reason
    )
    return json_response(await _candidate_view(unit, updated), headers=_NO_STORE)


@router.post(
    "/v1/candidate/interview/reschedule",
    response_model=CandidateInterviewRead,
    summary="The candidate moves their interview to another suggested slot",
    description="Only suggestions can be picked (422 otherwise). 409 `slot-taken` carries a "
    "fresh proposal whose suggestions can be picked next.",
    responses=error_responses(401, 404, 409, 410, 422),
)
async def candidate_reschedule(
    interview: CandidateInterview,
    body: CandidateReschedule,
    unit: Unit,
    runtime: RuntimeDep,
    request: Request,
) -> Response:
    proposal = await _proposal_for(unit, interview, body.proposal_id)
    try:
        updated = await service.reschedule(
            unit=unit,
            interview=interview,
            proposal=proposal,
            slot_index=body.slot_index,
            slot=None,
            actor="candidate",
            reminder_minutes=_reminder_minutes(runtime),
        )
    except service.SlotTaken as taken:
        return render(request, taken)
    return json_response(await _candidate_view(unit, updated), headers=_NO_STORE)
