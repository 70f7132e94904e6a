from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from scheduler.calendars import service
from scheduler.calendars.schemas import (
    CalendarCreate,
    CalendarDayPut,
    CalendarDayRead,
    CalendarRead,
)
from shared.http.app import json_response
from shared.http.dependencies import Admin, IdempotencyDep, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses

router = APIRouter(prefix="/v1/calendars", tags=["calendars"])

CalendarPath = Annotated[
    str, Path(max_length=40, description="The calendar's id.", examples=["cn"])
]


@router.get(
    "",
    response_model=Page[CalendarRead],
    summary="Holiday calendars by id (`cn`: China's, with make-up workdays)",
    responses=error_responses(400, 401, 403, 422),
)
async def list_calendars(unit: Unit, _: Staff, page: PageQuery) -> Page[CalendarRead]:
    calendars, next_cursor = await service.list_calendars(session=unit.session, params=page)
    return Page[CalendarRead](
        items=[CalendarRead.model_validate(c) for c in calendars], next_cursor=next_cursor
    )


@router.post(
    "",
    status_code=201,
    response_model=CalendarRead,
    summary="Create a custom calendar (weekends off, plus the days you give it)",
    responses=error_responses(401, 403, 409, 422),
)
async def create_calendar(
    body: CalendarCreate, unit: Unit, _: Admin, idempotency: IdempotencyDep
) -> Response:
    async def produce() -> Response:
        calendar = await service.create(unit=unit, body=body)
        return json_response(
            CalendarRead.model_validate(calendar),
            status_code=201,
            headers={"Location": f"/v1/calendars/{calendar.id}"},
        )

    return await idempotency.run(unit, produce)


@router.get(
    "/{calendar_id}/days",
    response_model=list[CalendarDayRead],
    summary="A calendar's own holidays and workdays in one year",
    responses=error_responses(401, 403, 404, 422),
)
async def list_calendar_days(
    calendar_id: CalendarPath,
    unit: Unit,
    _: Staff,
    year: Annotated[int, Query(ge=2000, le=2100, examples=[2026])],
) -> list[CalendarDayRead]:
    days = await service.list_days(session=unit.session, calendar_id=calendar_id, year=year)
    return [CalendarDayRead.model_validate(d) for d in days]


@router.put(
    "/{calendar_id}/days/{day}",
    response_model=CalendarDayRead,
    summary="Make a day a holiday or a workday in a calendar (created: 201, changed: 200)",
    responses=error_responses(401, 403, 404, 422),
)
async def put_calendar_day(
    calendar_id: CalendarPath, day: date, body: CalendarDayPut, unit: Unit, _: Admin
) -> Response:
    stored, created = await service.put_day(unit=unit, calendar_id=calendar_id, day=day, body=body)
    return json_response(
        CalendarDayRead.model_validate(stored), status_code=201 if created else 200
    )


@router.delete(
    "/{calendar_id}/days/{day}",
    status_code=204,
    summary="Remove a calendar's own day (it falls back to the calendar's base)",
    responses=error_responses(401, 403, 404, 422),
)
async def delete_calendar_day(
    calendar_id: CalendarPath, day: date, unit: Unit, _: Admin
) -> Response:
    await service.delete_day(unit=unit, calendar_id=calendar_id, day=day)
    return Response(status_code=204)
