from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from pipeline.applications import service
from pipeline.applications.dependencies import LockedApplication, VisibleApplication
from pipeline.applications.schemas import (
    ApplicationRead,
    StageChangeRead,
    TransitionIn,
)
from pipeline.results import service as results
from shared.http.app import json_response
from shared.http.dependencies import IfMatch, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses

router = APIRouter(tags=["applications"])


def _read(application: object, status_code: int = 200, location: bool = False) -> Response:
    body = ApplicationRead.model_validate(application)
    headers = {"ETag": f'"{body.version}"'}
    if location:
        headers["Location"] = f"/v1/applications/{body.id}"
    return json_response(body, status_code=status_code, headers=headers)


@router.get(
    "/v1/applications",
    response_model=Page[ApplicationRead],
    summary="Applications the caller may see, newest first",
    responses=error_responses(400, 401, 403, 422),
)
async def list_applications(
    unit: Unit,
    principal: Staff,
    page: PageQuery,
    job_id: Annotated[uuid.UUID | None, Query(description="Only this job's applications.")] = None,
) -> Page[ApplicationRead]:
    applications, next_cursor = await service.list_visible(
        session=unit.session, principal=principal, params=page, job_id=job_id
    )
    return Page[ApplicationRead](
        items=[ApplicationRead.model_validate(a) for a in applications], next_cursor=next_cursor
    )


@router.get(
    "/v1/applications/{application_id}",
    response_model=ApplicationRead,
    summary="One application; its ETag is its version",
    responses=error_responses(401, 403, 404, 422),
)
async def get_application(application: VisibleApplication) -> Response:
    return _read(application)


@router.get(
    "/v1/applications/{application_id}/history",
    response_model=list[StageChangeRead],
    summary="Every stage change of the application, oldest first",
    responses=error_responses(401, 403, 404, 422),
)
async def get_history(application: VisibleApplication, unit: Unit) -> list[StageChangeRead]:
    changes = await service.history(session=unit.session, application_id=application.id)
    return [StageChangeRead.model_validate(change) for change in changes]


@router.post(
    "/v1/applications/{application_id}/transitions",
    response_model=ApplicationRead,
    summary="Advance, move, reject, withdraw, hire or reopen the application",
    description="Emits `stage_changed`. An illegal transition is a 409 `transition-refused` "
    "whose `allowed` lists what the application may do. Where the job type's release policy "
    "wants approval, advance/move/reject/hire are refused with 409 "
    "`release-approval-required`: create a result instead. Elsewhere they are results "
    "released at once (`result_released`).",
    responses=error_responses(400, 401, 403, 404, 409, 412, 422),
)
async def transition_application(
    application: LockedApplication,
    body: TransitionIn,
    unit: Unit,
    principal: Staff,
    expected_version: IfMatch,
) -> Response:
    moved = await results.direct_transition(
        unit=unit,
        principal=principal,
        application=application,
        expected_version=expected_version,
        move=body.command(),
    )
    return _read(moved)
