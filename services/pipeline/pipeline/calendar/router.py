from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request
from starlette.responses import Response

from pipeline.calendar import service
from pipeline.calendar.dependencies import calendar_cache
from pipeline.calendar.schemas import CalendarDayIn, CalendarDayRead, CalendarYearRead
from shared.calendar import BUNDLED_YEARS
from shared.http.app import json_response
from shared.http.dependencies import Admin, Staff, Unit
from shared.problems import error_responses, not_found

router = APIRouter(tags=["calendar"])

Day = Annotated[date, Path(description="The day, as YYYY-MM-DD.", examples=["2027-10-01"])]


def _invalidate(request: Request, background: BackgroundTasks) -> None:
    # Now, and again once the response is sent (after the commit), so a concurrent request
    # cannot cache the old overrides in between.
    cache = calendar_cache(request)
    cache.invalidate()
    background.add_task(cache.invalidate)


@router.get(
    "/v1/calendar/days",
    response_model=CalendarYearRead,
    summary="A year's holiday and workday overrides, and whether its official calendar is known",
    responses=error_responses(401, 403, 422),
)
async def list_days(
    unit: Unit,
    principal: Staff,
    year: Annotated[int, Query(ge=2000, le=2100, description="The year.", examples=[2027])],
) -> CalendarYearRead:
    days = await service.list_year(session=unit.session, year=year)
    holidays_entered = any(day.kind == "holiday" for day in days)
    return CalendarYearRead(
        year=year,
        bundled=year in BUNDLED_YEARS,
        known=year in BUNDLED_YEARS or holidays_entered,
        days=[CalendarDayRead.model_validate(day) for day in days],
    )


@router.put(
    "/v1/calendar/days/{day}",
    response_model=CalendarDayRead,
    status_code=200,
    summary="Make a day a holiday or a workday, over the official calendar (201 when new)",
    responses={
        201: {"model": CalendarDayRead, "description": "Override created"},
        **error_responses(401, 403, 422),
    },
)
async def put_day(
    day: Day,
    body: CalendarDayIn,
    unit: Unit,
    principal: Admin,
    request: Request,
    background: BackgroundTasks,
) -> Response:
    created = await service.put(unit=unit, day=day, day_in=body, actor=principal.subject)
    _invalidate(request, background)
    stored = await service.get(session=unit.session, day=day)
    return json_response(
        CalendarDayRead.model_validate(stored), status_code=201 if created else 200
    )


@router.delete(
    "/v1/calendar/days/{day}",
    status_code=204,
    summary="Remove a day's override; the official calendar applies again",
    responses=error_responses(401, 403, 404, 422),
)
async def delete_day(
    day: Day, unit: Unit, principal: Admin, request: Request, background: BackgroundTasks
) -> Response:
    if not await service.delete(unit=unit, day=day):
        raise not_found("calendar override", day.isoformat())
    _invalidate(request, background)
    return Response(status_code=204)
