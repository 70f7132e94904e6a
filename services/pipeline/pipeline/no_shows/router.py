from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from pipeline.applications.dependencies import VisibleApplication
from pipeline.no_shows import service
from pipeline.no_shows.schemas import NoShowCreate, NoShowRead
from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, Staff, Unit
from shared.problems import error_responses

router = APIRouter(tags=["no-shows"])


@router.post(
    "/v1/applications/{application_id}/no-shows",
    status_code=201,
    response_model=NoShowRead,
    summary="Record that the candidate did not turn up (emits no_show_recorded)",
    description="Once per application, stage and kind: a repeat is a 409 "
    "`duplicate-no-show` naming the first (`no_show_id`). The job type's result-release "
    "policy mode at this time is kept with it.",
    responses=error_responses(401, 403, 404, 409, 413, 422),
)
async def record_no_show(
    application: VisibleApplication,
    body: NoShowCreate,
    unit: Unit,
    principal: Staff,
    idempotency: IdempotencyDep,
) -> Response:
    async def produce() -> Response:
        no_show = await service.record(
            unit=unit, principal=principal, application=application, no_show_in=body
        )
        return json_response(NoShowRead.model_validate(no_show), status_code=201)

    return await idempotency.run(unit, produce)


@router.get(
    "/v1/applications/{application_id}/no-shows",
    response_model=list[NoShowRead],
    summary="The application's no-shows, oldest first",
    responses=error_responses(401, 403, 404, 422),
)
async def list_no_shows(application: VisibleApplication, unit: Unit) -> list[NoShowRead]:
    no_shows = await service.list_for(session=unit.session, application_id=application.id)
    return [NoShowRead.model_validate(no_show) for no_show in no_shows]
