from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import StreamingResponse

from pipeline.analytics import export, service
from pipeline.analytics.dependencies import AnalyticsScope, VisibleJobId
from pipeline.analytics.schemas import (
    AiInterviews,
    Funnel,
    NoShowsByPolicy,
    SlaBreaches,
    TimeInStages,
)
from pipeline.analytics.service import Scope
from shared.http.dependencies import RuntimeDep, Staff, Unit
from shared.problems import error_responses

router = APIRouter(tags=["analytics"])

_ERRORS = error_responses(401, 403, 404, 422)


@router.get(
    "/v1/analytics/funnel",
    response_model=Funnel,
    summary="How many applications reached each stage, are in it now, and converted",
    responses=_ERRORS,
)
async def get_funnel(scope: AnalyticsScope, unit: Unit) -> Funnel:
    return await service.funnel(session=unit.session, scope=scope, now=unit.clock.now())


@router.get(
    "/v1/analytics/time-in-stage",
    response_model=TimeInStages,
    summary="Median and 90th percentile of the time applications spent in each stage",
    responses=_ERRORS,
)
async def get_time_in_stage(scope: AnalyticsScope, unit: Unit) -> TimeInStages:
    return await service.time_in_stage(session=unit.session, scope=scope, now=unit.clock.now())


@router.get(
    "/v1/analytics/sla-breaches",
    response_model=SlaBreaches,
    summary="Stays past their stage's SLA in business days, now and in the past",
    responses=_ERRORS,
)
async def get_sla_breaches(scope: AnalyticsScope, unit: Unit) -> SlaBreaches:
    return await service.sla_breaches(session=unit.session, scope=scope, now=unit.clock.now())


@router.get(
    "/v1/analytics/ai-interviews",
    response_model=AiInterviews,
    summary="AI-interview completion and no-show rates, and time to the candidate's first notice",
    responses=_ERRORS,
)
async def get_ai_interviews(scope: AnalyticsScope, unit: Unit) -> AiInterviews:
    return await service.ai_interviews(session=unit.session, scope=scope, now=unit.clock.now())


@router.get(
    "/v1/analytics/no-shows",
    response_model=NoShowsByPolicy,
    summary="No-shows after an agreed interview or an offer, by result-release policy",
    responses=_ERRORS,
)
async def get_no_shows(scope: AnalyticsScope, unit: Unit) -> NoShowsByPolicy:
    return await service.no_shows_by_policy(session=unit.session, scope=scope, now=unit.clock.now())


_CSV_EXAMPLE = (
    "application_id,job_id,job_title,candidate_id,stage_key,stage_kind,stage_name_zh,"
    "stage_name_en,status,source,stage_entered_at,created_at\r\n"
    "0193a1b2-0000-7000-8000-000000000001,0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b,"
    "Backend engineer,0193a1b2-0000-7000-8000-0000000000c1,round_1,interview,一面,"
    "First round,active,api,2025-03-03T02:00:00+00:00,2025-03-01T01:00:00+00:00\r\n"
)
_CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "UTF-8 CSV with a byte-order mark, one row per application, oldest "
        "first. No contact data. Cells a spreadsheet would read as a formula start with `'`.",
        "content": {"text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE}},
    }
}


@router.get(
    "/v1/applications/export.csv",
    response_class=StreamingResponse,
    summary="Applications with their current stage, as CSV (streamed)",
    responses={**_CSV_RESPONSE, **error_responses(401, 403, 404, 422)},
)
async def export_applications(
    principal: Staff, job_id: VisibleJobId, runtime: RuntimeDep
) -> StreamingResponse:
    scope = Scope(principal=principal, job_id=job_id)
    return StreamingResponse(
        export.stream(runtime.db, scope),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="applications.csv"'},
    )
