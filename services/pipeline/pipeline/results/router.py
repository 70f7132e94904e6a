from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter
from starlette.responses import Response

from pipeline.applications import service as applications
from pipeline.applications.dependencies import ApplicationId, LockedApplication
from pipeline.jobs.models import Job
from pipeline.results import service
from pipeline.results.dependencies import LockedResult, VisibleResult
from pipeline.results.models import ApprovalStep, Result
from pipeline.results.schemas import (
    ApprovalIn,
    ApprovalStepRead,
    DeclineIn,
    PendingApprovalRead,
    ResultCreate,
    ResultRead,
)
from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses, not_found

router = APIRouter(tags=["results"])


def _read(result: Result, steps: Sequence[ApprovalStep]) -> ResultRead:
    return ResultRead.model_validate(
        {
            **{
                column: getattr(result, column)
                for column in ResultRead.model_fields
                if column != "steps"
            },
            "steps": [ApprovalStepRead.model_validate(step) for step in steps],
        }
    )


async def _respond(unit: Unit, result: Result, status_code: int = 200) -> Response:
    steps = await service.steps_of(unit.session, result.id)
    body = _read(result, steps)
    headers = {"ETag": f'"{body.version}"'}
    if status_code == 201:
        headers["Location"] = f"/v1/results/{body.id}"
    return json_response(body, status_code=status_code, headers=headers)


@router.post(
    "/v1/applications/{application_id}/results",
    status_code=201,
    response_model=ResultRead,
    summary="Decide about an application; released now, at `release_at` or after approval",
    description="Applies the job type's release policy: with no approver the decision is "
    "applied and `result_released` emitted at once (or at `release_at`); with approvers the "
    "result waits for them in turn (`approval_requested`). One open result per application.",
    responses=error_responses(401, 403, 404, 409, 413, 422),
)
async def create_result(
    application: LockedApplication,
    body: ResultCreate,
    unit: Unit,
    principal: Staff,
    idempotency: IdempotencyDep,
) -> Response:
    async def produce() -> Response:
        job = await unit.session.get_one(Job, application.job_id)
        result = await service.decide(
            unit=unit,
            application=application,
            job=job,
            decision=body,
            actor=service.actor_of(principal),
        )
        return await _respond(unit, result, status_code=201)

    return await idempotency.run(unit, produce)


@router.get(
    "/v1/applications/{application_id}/results",
    response_model=Page[ResultRead],
    summary="The application's results, newest first",
    description="HR owning the job and admins see every result; an approver who does not own "
    "the job sees the results whose chain names them.",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_results(
    application_id: ApplicationId, unit: Unit, principal: Staff, page: PageQuery
) -> Page[ResultRead]:
    results, next_cursor = await service.list_for_application(
        session=unit.session, principal=principal, application_id=application_id, params=page
    )
    if not results and page.cursor is None:
        application = await applications.get_visible(
            session=unit.session, principal=principal, application_id=application_id
        )
        if application is None:
            raise not_found("application", application_id)
    steps = await service.steps_by_result(unit.session, [result.id for result in results])
    return Page[ResultRead](
        items=[_read(result, steps[result.id]) for result in results], next_cursor=next_cursor
    )


@router.get(
    "/v1/results/{result_id}",
    response_model=ResultRead,
    summary="One result with its approval chain",
    responses=error_responses(401, 403, 404, 422),
)
async def get_result(result: VisibleResult, unit: Unit) -> Response:
    return await _respond(unit, result)


@router.post(
    "/v1/results/{result_id}/approve",
    response_model=ResultRead,
    summary="Approve a result as its current approver",
    description="The last approval releases the result (or schedules it, if `release_at` is "
    "later). Approving out of turn or twice is a 409.",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def approve_result(
    result: LockedResult, body: ApprovalIn, unit: Unit, principal: Staff
) -> Response:
    approved = await service.approve(
        unit=unit, result=result, principal=principal, comment=body.comment
    )
    return await _respond(unit, approved)


@router.post(
    "/v1/results/{result_id}/decline",
    response_model=ResultRead,
    summary="Decline a result as its current approver; the chain ends",
    description="The application is unchanged; HR may make a new decision.",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def decline_result(
    result: LockedResult, body: DeclineIn, unit: Unit, principal: Staff
) -> Response:
    declined = await service.decline(
        unit=unit, result=result, principal=principal, comment=body.comment
    )
    return await _respond(unit, declined)


@router.post(
    "/v1/results/{result_id}/cancel",
    response_model=ResultRead,
    summary="Cancel a result that is not released yet",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def cancel_result(result: LockedResult, unit: Unit, principal: Staff) -> Response:
    cancelled = await service.cancel(unit=unit, result=result, principal=principal)
    return await _respond(unit, cancelled)


@router.get(
    "/v1/approvals",
    response_model=Page[PendingApprovalRead],
    summary="The caller's pending approvals, soonest due first",
    responses=error_responses(400, 401, 403, 422),
)
async def list_pending_approvals(
    unit: Unit, principal: Staff, page: PageQuery
) -> Page[PendingApprovalRead]:
    rows, next_cursor = await service.pending_for(
        session=unit.session, principal=principal, params=page
    )
    return Page[PendingApprovalRead](
        items=[PendingApprovalRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )
