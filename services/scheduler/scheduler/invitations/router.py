from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Header, Path, Query, Request
from starlette.responses import Response, StreamingResponse

from scheduler.interviews.models import Interview
from scheduler.interviews.service import SlotTaken
from scheduler.invitations import export, lifecycle, service
from scheduler.invitations.dependencies import (
    CandidateInvitation,
    LockedInvitation,
    VisibleInvitation,
)
from scheduler.invitations.models import Invitation
from scheduler.invitations.schemas import (
    GROUP_PATTERN,
    Board,
    BulkInvitationCreate,
    BulkResult,
    BulkRow,
    CandidateSlot,
    CustomWindow,
    CustomWindowAnswer,
    DeadlineChange,
    InvitationCancel,
    InvitationCreate,
    InvitationIssued,
    InvitationKind,
    InvitationRead,
    InvitationState,
    LinkIssued,
    Pick,
    Picked,
    PolicyRead,
    PolicyWrite,
    RowProblem,
)
from scheduler.invitations.schemas import CandidateInvitation as CandidateView
from scheduler.jobs.dependencies import require_visible_job
from scheduler.jobs.models import Job
from scheduler.proposals.models import Proposal
from scheduler.settings import SchedulerSettings
from shared.http.app import json_response
from shared.http.dependencies import (
    Admin,
    IdempotencyDep,
    IfMatch,
    RuntimeDep,
    Staff,
    Unit,
)
from shared.http.errors import render
from shared.http.idempotency import Idempotency
from shared.http.pagination import Page, PageQuery
from shared.problems import Problem, conflict, error_responses, not_found
from shared.unit import UnitOfWork

router = APIRouter(tags=["invitations"])

Group = Annotated[
    str, Path(pattern=GROUP_PATTERN, description="The candidate group.", examples=["campus"])
]
MAX_WINDOW = timedelta(hours=12)
MAX_AHEAD = timedelta(days=180)


# Policies


def _policy(policy: Any, *, status_code: int = 200) -> Response:
    return json_response(
        PolicyRead.of(policy), status_code=status_code, headers={"ETag": f'"{policy.version}"'}
    )


@router.put(
    "/v1/invitation-policies/{group}",
    response_model=PolicyRead,
    status_code=200,
    summary="Create (201) or replace (200, If-Match required) a candidate group's deadlines, "
    "reminders and make-up window",
    responses={
        201: {"model": PolicyRead, "description": "Created."},
        **error_responses(400, 401, 403, 412, 422, 428),
    },
)
async def put_policy(
    group: Group,
    body: PolicyWrite,
    unit: Unit,
    principal: Admin,
    expected_version: IfMatch,
    if_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    policy, created = await service.put_policy(
        unit=unit,
        principal=principal,
        group=group,
        body=body,
        expected_version=expected_version,
        if_match_given=if_match is not None,
    )
    return _policy(policy, status_code=201 if created else 200)


@router.get(
    "/v1/invitation-policies",
    response_model=list[PolicyRead],
    summary="Every candidate group's invitation policy",
    responses=error_responses(401, 403),
)
async def list_policies(unit: Unit, principal: Staff) -> list[PolicyRead]:
    return [PolicyRead.of(p) for p in await service.list_policies(session=unit.session)]


@router.get(
    "/v1/invitation-policies/{group}",
    response_model=PolicyRead,
    summary="One candidate group's invitation policy; its ETag is its version",
    responses=error_responses(401, 403, 404, 422),
)
async def get_policy(group: Group, unit: Unit, principal: Staff) -> Response:
    policy = await service.get_policy(session=unit.session, group=group)
    if policy is None:
        raise not_found("invitation policy", group)
    return _policy(policy)


# Staff: invitations


async def _once_with_tokens(
    idempotency: Idempotency,
    unit: UnitOfWork,
    produce: Callable[[], Awaitable[tuple[Response, Response]]],
) -> Response:
    """Run ``produce`` under the Idempotency-Key, storing only the answer without link tokens
    (tokens are never stored in plain): a replay gets that answer, the first caller the full
    one."""
    full: list[Response] = []

    async def redacted() -> Response:
        answer, without_tokens = await produce()
        full.append(answer)
        return without_tokens

    response = await idempotency.run(unit, redacted)
    return full[0] if full else response


@router.post(
    "/v1/invitations",
    status_code=201,
    response_model=InvitationIssued,
    summary="Invite a candidate to pick one of a proposal's slots (or of a proposal computed "
    "now); the link token is in this answer only",
    description="One waiting live-interview invitation per application: a second is refused "
    "with 409 naming the first. With `Idempotency-Key` a retry gets the first answer back, "
    "without the link token (`POST /v1/invitations/{id}/link` issues a new one).",
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def create_invitation(
    body: InvitationCreate, unit: Unit, principal: Staff, idempotency: IdempotencyDep
) -> Response:
    job = await require_visible_job(unit.session, principal, body.job_id)

    async def produce() -> tuple[Response, Response]:
        (outcome,) = await service.create_live(unit=unit, principal=principal, job=job, rows=[body])
        if outcome.status == "exists":
            raise conflict(
                "This application already has a waiting live-interview invitation.",
                slug="invitation-exists",
                invitation_id=str(outcome.invitation_id),
            )
        if outcome.problem is not None:
            raise outcome.problem
        assert outcome.invitation is not None
        read = InvitationRead.of(outcome.invitation).model_dump()
        headers = {
            "Location": f"/v1/invitations/{outcome.invitation.id}",
            "ETag": f'"{outcome.invitation.version}"',
            "Cache-Control": "no-store",
        }
        full = InvitationIssued(
            **read, link_token=outcome.token, link_expires_at=outcome.link_expires_at
        )
        bare = InvitationIssued(**read, link_token=None, link_expires_at=None)
        return (
            json_response(full, status_code=201, headers=headers),
            json_response(bare, status_code=201, headers=headers),
        )

    return await _once_with_tokens(idempotency, unit, produce)


def _row_problem(problem: Problem | None) -> RowProblem | None:
    if problem is None:
        return None
    return RowProblem(
        status=problem.status, title=problem.title, detail=problem.detail, type=problem.type
    )


@router.post(
    "/v1/invitations/bulk",
    response_model=BulkResult,
    summary="Invite up to 500 candidates of one job at once, with a result per candidate",
    description="Rows are created, already waiting (`exists`: safe to retry the whole request) "
    "or failed with a problem each; one bad row does not stop the others. Link tokens are in "
    "this answer only; an idempotent replay has none.",
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def create_invitations_in_bulk(
    body: BulkInvitationCreate, unit: Unit, principal: Staff, idempotency: IdempotencyDep
) -> Response:
    job = await require_visible_job(unit.session, principal, body.job_id)

    async def produce() -> tuple[Response, Response]:
        outcomes = await service.create_live(
            unit=unit, principal=principal, job=job, rows=body.candidates
        )
        rows = [
            BulkRow(
                application_id=o.application_id,
                status=o.status,
                invitation_id=o.invitation_id,
                link_token=o.token,
                link_expires_at=o.link_expires_at,
                problem=_row_problem(o.problem),
            )
            for o in outcomes
        ]
        result = BulkResult(
            job_id=job.id,
            created=sum(o.status == "created" for o in outcomes),
            existing=sum(o.status == "exists" for o in outcomes),
            failed=sum(o.status == "failed" for o in outcomes),
            rows=rows,
        )
        bare = result.model_copy(
            update={
                "rows": [r.model_copy(update={"link_token": None}) for r in rows],
            }
        )
        headers = {"Cache-Control": "no-store"}
        return json_response(result, headers=headers), json_response(bare, headers=headers)

    return await _once_with_tokens(idempotency, unit, produce)


JobFilter = Annotated[uuid.UUID | None, Query(description="Only this job's invitations.")]
StateFilter = Annotated[InvitationState | None, Query(description="Only in this state.")]


@router.get(
    "/v1/invitations",
    response_model=Page[InvitationRead],
    summary="Invitations of the caller's jobs, newest first, by job, state and kind",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_invitations(
    unit: Unit,
    principal: Staff,
    page: PageQuery,
    job_id: JobFilter = None,
    state: StateFilter = None,
    kind: Annotated[InvitationKind | None, Query(description="Only of this kind.")] = None,
) -> Page[InvitationRead]:
    if job_id is not None:
        await require_visible_job(unit.session, principal, job_id)
    items, next_cursor = await service.list_invitations(
        session=unit.session,
        principal=principal,
        job_id=job_id,
        state=state,
        kind=kind,
        params=page,
    )
    return Page[InvitationRead](
        items=[InvitationRead.of(item) for item in items], next_cursor=next_cursor
    )


@router.get(
    "/v1/invitations/board",
    response_model=Board,
    summary="A job's invitations counted by state (sent, opened, booked, completed, expired, "
    "closed, ...)",
    responses=error_responses(401, 403, 404, 422),
)
async def get_board(
    unit: Unit,
    principal: Staff,
    job_id: Annotated[uuid.UUID, Query(description="The job.")],
) -> Board:
    await require_visible_job(unit.session, principal, job_id)
    counts = await service.board(session=unit.session, job_id=job_id)
    return Board(job_id=job_id, **counts)


_CSV_EXAMPLE = (
    ",".join(export.COLUMNS) + "\r\n"
    "0193a1b2-0000-7000-8000-0000000000e1,live_interview,0193a1b2-0000-7000-8000-0000000000b1,"
    "0193a1b2-0000-7000-8000-0000000000a1,0193a1b2-0000-7000-8000-0000000000c1,campus,booked,"
    "2025-03-03T09:00:00+00:00,2025-03-03T10:00:00+00:00,2025-03-03T10:05:00+00:00,"
    "2025-03-05T09:00:00+00:00,,,,,0193a1b2-0000-7000-8000-0000000000f1\r\n"
)


@router.get(
    "/v1/invitations/export.csv",
    response_class=StreamingResponse,
    summary="The caller's invitations as CSV (streamed; ids, states and times, no personal data)",
    responses={
        200: {
            "description": "UTF-8 CSV, oldest first. Cells a spreadsheet would read as a "
            "formula start with `'`.",
            "content": {"text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE}},
        },
        **error_responses(401, 403, 404, 422),
    },
)
async def export_invitations(
    unit: Unit,
    principal: Staff,
    runtime: RuntimeDep,
    job_id: JobFilter = None,
    state: StateFilter = None,
) -> StreamingResponse:
    if job_id is not None:
        await require_visible_job(unit.session, principal, job_id)
    query = export.statement(principal, job_id=job_id, state=state)
    return StreamingResponse(
        export.stream(runtime.db, query),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="invitations.csv"'},
    )


@router.get(
    "/v1/invitations/{invitation_id}",
    response_model=InvitationRead,
    summary="One invitation",
    responses=error_responses(401, 403, 404, 422),
)
async def get_invitation(invitation: VisibleInvitation) -> Response:
    return _invitation(invitation)


@router.post(
    "/v1/invitations/{invitation_id}/link",
    status_code=201,
    response_model=LinkIssued,
    summary="Issue a new link token for the candidate (earlier links stop working, 410)",
    description="Not idempotent on purpose: a token is never stored, so a retry issues "
    "another one.",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def reissue_link(invitation: LockedInvitation, unit: Unit) -> Response:
    if invitation.state in lifecycle.GONE:
        raise conflict(f"This invitation is {invitation.state}.", slug="invitation-closed")
    token, expires_at = await service.reissue_link(unit=unit, invitation=invitation)
    return json_response(
        LinkIssued(invitation_id=invitation.id, link_token=token, link_expires_at=expires_at),
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


def _invitation(invitation: Invitation) -> Response:
    return json_response(InvitationRead.of(invitation), headers={"ETag": f'"{invitation.version}"'})


@router.post(
    "/v1/invitations/{invitation_id}/cancel",
    response_model=InvitationRead,
    summary="Withdraw a waiting invitation: its reminders and deadline are dropped and the "
    "candidate's link stops working (410)",
    description="Only while the invitation waits for the candidate (`sent`, `opened`, "
    "`custom_requested`, or `expired` in its make-up window). A booked invitation is 409 "
    "`invitation-booked` naming the interview (cancel it with `POST "
    "/v1/interviews/{id}/cancel`); a completed, closed or cancelled one is 409 "
    "`invitation-not-waiting`. The body and `If-Match` are optional. No event is emitted.",
    responses=error_responses(400, 401, 403, 404, 409, 412, 422),
)
async def cancel_invitation(
    invitation: LockedInvitation,
    unit: Unit,
    principal: Staff,
    expected_version: IfMatch,
    body: Annotated[InvitationCancel | None, Body()] = None,
) -> Response:
    service.check_version(invitation, expected_version)
    cancelled = await service.cancel(
        unit=unit,
        invitation=invitation,
        actor=principal.subject,
        reason=body.reason if body is not None else None,
        actor_role=principal.role.value,
    )
    return _invitation(cancelled)


@router.post(
    "/v1/invitations/{invitation_id}/deadline",
    response_model=InvitationRead,
    summary="Move a waiting invitation's deadline: the deadline timer moves and the reminders "
    "are planned again for it",
    description="`deadline_at` must lie in the future and at most 180 days ahead (422 "
    "`bad-deadline`). Reminders of the policy whose time has already passed are not sent. An "
    "invitation in its make-up window (`expired`) waits again as `opened` (or `sent` if never "
    "opened), and the policy's make-up window follows the new deadline. Only while the "
    "invitation waits for the candidate (409 otherwise). `If-Match` with the version read: 412 "
    "when stale.",
    responses=error_responses(400, 401, 403, 404, 409, 412, 422),
)
async def change_deadline(
    body: DeadlineChange,
    invitation: LockedInvitation,
    unit: Unit,
    expected_version: IfMatch,
) -> Response:
    service.check_version(invitation, expected_version)
    changed = await service.change_deadline(
        unit=unit, invitation=invitation, deadline_at=body.deadline_at
    )
    return _invitation(changed)


# The candidate (``Authorization: Bearer <link token>``)


def _slots(items: list[dict[str, Any]], zone: str) -> list[CandidateSlot]:
    return [
        CandidateSlot(
            index=index,
            starts_at=service.in_zone(item["starts_at"], zone),
            ends_at=service.in_zone(item["ends_at"], zone),
        )
        for index, item in enumerate(items)
    ]


async def _view(unit: UnitOfWork, invitation: Invitation) -> CandidateView:
    zone = invitation.candidate_time_zone
    now = unit.clock.now()
    job = await unit.session.get(Job, invitation.job_id)
    proposal = (
        await unit.session.get(Proposal, invitation.proposal_id) if invitation.proposal_id else None
    )
    booked = None
    if invitation.interview_id is not None:
        interview = await unit.session.get(Interview, invitation.interview_id)
        if interview is not None:
            booked = CandidateSlot(
                index=-1,
                starts_at=service.in_zone(interview.starts_at, zone),
                ends_at=service.in_zone(interview.ends_at, zone),
            )
    verdict = lifecycle.verdict(
        invitation.state,
        deadline_at=invitation.deadline_at,
        makeup_until=invitation.makeup_until,
        now=now,
    )
    act_until = lifecycle.act_until(
        invitation.state, deadline_at=invitation.deadline_at, makeup_until=invitation.makeup_until
    )
    return CandidateView(
        invitation_id=invitation.id,
        kind=invitation.kind,
        state=invitation.state,
        job_title=job.title if job else "",
        time_zone=zone,
        deadline_at=service.in_zone(invitation.deadline_at, zone),
        makeup_until=(
            service.in_zone(invitation.makeup_until, zone) if invitation.makeup_until else None
        ),
        act_until=service.in_zone(act_until, zone),
        actionable=verdict is lifecycle.Verdict.ACTIONABLE,
        slots=_slots(service.offered_slots(proposal), zone)
        if invitation.state not in lifecycle.DONE
        else [],
        booked=booked,
        custom_window=invitation.custom_window,
    )


_NO_STORE = {"Cache-Control": "no-store"}


@router.get(
    "/v1/candidate/invitation",
    response_model=CandidateView,
    summary="The candidate's invitation: offered slots in their time zone, deadline, state "
    "(the first call records the opening)",
    responses=error_responses(401, 410),
)
async def get_candidate_invitation(invitation: CandidateInvitation, unit: Unit) -> Response:
    await service.record_opening(unit=unit, invitation=invitation)
    return json_response(await _view(unit, invitation), headers=_NO_STORE)


@router.post(
    "/v1/candidate/invitation/pick",
    response_model=Picked,
    summary="Pick one of the offered slots (by index or start time); it is booked at once",
    description="422 for a slot that was not offered; 409 when the invitation is already "
    "booked, or when the slot was taken meanwhile (the problem then carries fresh "
    "suggestions); 410 past the deadline.",
    responses=error_responses(401, 409, 410, 422),
)
async def pick_slot(
    body: Pick,
    invitation: CandidateInvitation,
    unit: Unit,
    request: Request,
    runtime: RuntimeDep,
) -> Response:
    await service.record_opening(unit=unit, invitation=invitation)
    settings = runtime.settings
    assert isinstance(settings, SchedulerSettings)
    try:
        interview = await service.pick(
            unit=unit,
            invitation=invitation,
            slot_index=body.slot_index,
            starts_at=body.starts_at,
            reminder_minutes=settings.interview_reminder_minutes,
        )
    except SlotTaken as taken:
        # Answered, not raised: the fresh proposal and the invitation's new offer commit.
        return render(request, taken)
    zone = invitation.candidate_time_zone
    return json_response(
        Picked(
            invitation_id=invitation.id,
            state="booked",
            interview_id=interview.id,
            starts_at=service.in_zone(interview.starts_at, zone),
            ends_at=service.in_zone(interview.ends_at, zone),
        ),
        headers=_NO_STORE,
    )


def _local(moment: datetime, zone: str) -> datetime:
    if moment.tzinfo is None:
        # fold=0: an ambiguous local time (DST fall-back) is its first occurrence.
        return moment.replace(tzinfo=ZoneInfo(zone))
    return moment


def _invalid(detail: str) -> Problem:
    return Problem(422, "Unprocessable content", detail, slug="invalid-window")


@router.post(
    "/v1/candidate/invitation/custom-window",
    response_model=CustomWindowAnswer,
    summary="Ask for another window (local times in the candidate's zone): free slots in it "
    "are offered, or else the nearest alternatives and HR is told",
    responses=error_responses(401, 409, 410, 422),
)
async def request_custom_window(
    body: CustomWindow, invitation: CandidateInvitation, unit: Unit
) -> Response:
    await service.record_opening(unit=unit, invitation=invitation)
    zone = invitation.candidate_time_zone
    starts_at, ends_at = _local(body.starts_at, zone), _local(body.ends_at, zone)
    now = unit.clock.now()
    if ends_at <= starts_at:
        raise _invalid("The window must end after it starts.")
    if ends_at - starts_at > MAX_WINDOW:
        raise _invalid("A window may be at most 12 hours long.")
    if starts_at <= now:
        raise _invalid("The window must lie in the future.")
    if starts_at - now > MAX_AHEAD:
        raise _invalid("The window must start within 180 days.")
    answer = await service.request_window(
        unit=unit, invitation=invitation, starts_at=starts_at, ends_at=ends_at
    )
    return json_response(
        CustomWindowAnswer(
            matched=answer.matched,
            window={
                "starts_at": service.in_zone(starts_at, zone),
                "ends_at": service.in_zone(ends_at, zone),
            },
            slots=_slots(answer.slots, zone),
            state=invitation.state,
        ),
        headers=_NO_STORE,
    )
