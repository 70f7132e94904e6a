from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from pipeline.policies import service
from pipeline.policies.schemas import (
    JOB_TYPE_PATTERN,
    RejectionReasonCreate,
    RejectionReasonRead,
    RejectionReasonUpdate,
    ReleasePolicyIn,
    ReleasePolicyRead,
)
from shared.http.app import json_response
from shared.http.dependencies import Admin, IfMatch, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses

router = APIRouter(tags=["policies"])

JobType = Annotated[
    str, Path(pattern=JOB_TYPE_PATTERN, description="The job type.", examples=["core"])
]
ReasonCode = Annotated[
    str,
    Path(pattern=JOB_TYPE_PATTERN, description="The reason's code.", examples=["not_qualified"]),
]


def _policy(policy: object, status_code: int = 200) -> Response:
    body = ReleasePolicyRead.model_validate(policy)
    headers = {"ETag": f'"{body.version}"'}
    if status_code == 201:
        headers["Location"] = f"/v1/release-policies/{body.job_type}"
    return json_response(body, status_code=status_code, headers=headers)


@router.get(
    "/v1/release-policies",
    response_model=Page[ReleasePolicyRead],
    summary="Every job type's result-release policy, by job type",
    responses=error_responses(400, 401, 403, 422),
)
async def list_release_policies(
    unit: Unit, principal: Staff, page: PageQuery
) -> Page[ReleasePolicyRead]:
    policies, next_cursor = await service.list_policies(unit.session, page)
    return Page[ReleasePolicyRead](
        items=[ReleasePolicyRead.model_validate(p) for p in policies], next_cursor=next_cursor
    )


@router.get(
    "/v1/release-policies/{job_type}",
    response_model=ReleasePolicyRead,
    summary="One job type's result-release policy; its ETag is its version",
    responses=error_responses(401, 403, 404, 422),
)
async def get_release_policy(job_type: JobType, unit: Unit, principal: Staff) -> Response:
    return _policy(await service.get(unit.session, job_type))


@router.put(
    "/v1/release-policies/{job_type}",
    response_model=ReleasePolicyRead,
    status_code=200,
    summary="Create (201) or replace (200) a job type's result-release policy (admins)",
    description="Send the version you read as If-Match when replacing; a stale one is a 412. "
    "The policy applies to results decided from now on; chains already running keep their "
    "approvers.",
    responses={
        201: {"description": "Created", "model": ReleasePolicyRead},
        **error_responses(400, 401, 403, 404, 412, 422),
    },
)
async def put_release_policy(
    job_type: JobType,
    body: ReleasePolicyIn,
    unit: Unit,
    principal: Admin,
    expected_version: IfMatch,
) -> Response:
    policy, created = await service.put(
        unit=unit,
        job_type=job_type,
        policy_in=body,
        expected_version=expected_version,
        actor=principal.subject,
    )
    return _policy(policy, status_code=201 if created else 200)


@router.delete(
    "/v1/release-policies/{job_type}",
    status_code=204,
    summary="Delete a job type's policy that no job uses (admins)",
    responses=error_responses(400, 401, 403, 404, 409, 412, 422),
)
async def delete_release_policy(
    job_type: JobType, unit: Unit, principal: Admin, expected_version: IfMatch
) -> Response:
    await service.delete(unit=unit, job_type=job_type, expected_version=expected_version)
    return Response(status_code=204)


@router.get(
    "/v1/rejection-reasons",
    response_model=Page[RejectionReasonRead],
    summary="The configured rejection reasons, by code",
    responses=error_responses(400, 401, 403, 422),
)
async def list_rejection_reasons(
    unit: Unit,
    principal: Staff,
    page: PageQuery,
    active: Annotated[
        bool | None, Query(description="Only active (true) or inactive (false) reasons.")
    ] = None,
) -> Page[RejectionReasonRead]:
    reasons, next_cursor = await service.list_reasons(unit.session, page, active=active)
    return Page[RejectionReasonRead](
        items=[RejectionReasonRead.model_validate(r) for r in reasons], next_cursor=next_cursor
    )


@router.get(
    "/v1/rejection-reasons/{code}",
    response_model=RejectionReasonRead,
    summary="One rejection reason",
    responses=error_responses(401, 403, 404, 422),
)
async def get_rejection_reason(
    code: ReasonCode, unit: Unit, principal: Staff
) -> RejectionReasonRead:
    return RejectionReasonRead.model_validate(await service.get_reason(unit.session, code))


@router.post(
    "/v1/rejection-reasons",
    status_code=201,
    response_model=RejectionReasonRead,
    summary="Add a rejection reason (admins)",
    responses=error_responses(401, 403, 409, 422),
)
async def create_rejection_reason(
    body: RejectionReasonCreate, unit: Unit, principal: Admin
) -> Response:
    reason = await service.create_reason(unit=unit, reason_in=body)
    return json_response(
        RejectionReasonRead.model_validate(reason),
        status_code=201,
        headers={"Location": f"/v1/rejection-reasons/{reason.code}"},
    )


@router.patch(
    "/v1/rejection-reasons/{code}",
    response_model=RejectionReasonRead,
    summary="Change a rejection reason's labels, visibility or activity (admins)",
    responses=error_responses(401, 403, 404, 422),
)
async def update_rejection_reason(
    code: ReasonCode, body: RejectionReasonUpdate, unit: Unit, principal: Admin
) -> RejectionReasonRead:
    reason = await service.update_reason(unit=unit, code=code, update=body)
    return RejectionReasonRead.model_validate(reason)


@router.delete(
    "/v1/rejection-reasons/{code}",
    status_code=204,
    response_model=None,
    summary="Delete an unused rejection reason; a used one is deactivated instead (admins)",
    description="204 when the reason was deleted; 200 with the reason (now `active: false`) "
    "when applications or results name it, so their history keeps its labels.",
    responses={
        200: {"description": "Deactivated", "model": RejectionReasonRead},
        **error_responses(401, 403, 404, 422),
    },
)
async def delete_rejection_reason(code: ReasonCode, unit: Unit, principal: Admin) -> Response:
    deactivated = await service.delete_reason(unit=unit, code=code)
    if deactivated is None:
        return Response(status_code=204)
    return json_response(RejectionReasonRead.model_validate(deactivated))
