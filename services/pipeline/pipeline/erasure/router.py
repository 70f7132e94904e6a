from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from pipeline.erasure import service
from pipeline.erasure.schemas import ErasureRequested
from pipeline.portal.dependencies import LockedPortalApplication
from shared.http.app import json_response
from shared.http.dependencies import Unit
from shared.problems import error_responses

router = APIRouter(tags=["portal"])


@router.post(
    "/v1/portal/erasure-request",
    status_code=202,
    response_model=ErasureRequested,
    summary="Ask for all of your data to be erased, in every service (emits "
    "candidate_erasure_requested; asking again changes nothing)",
    description="The talent pool records the request and has every service erase its copy; "
    "afterwards this link no longer works. Your applications are not withdrawn by it.",
    responses=error_responses(401, 410),
)
async def request_my_erasure(portal: LockedPortalApplication, unit: Unit) -> Response:
    requested_at = await service.candidate_request(
        unit=unit,
        candidate_id=portal.application.candidate_id,
        application_id=portal.application.id,
    )
    return json_response(
        ErasureRequested(status="requested", requested_at=requested_at),
        status_code=202,
        headers={"Cache-Control": "no-store"},
    )
