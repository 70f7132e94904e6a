from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from scheduler.busy_blocks import service
from scheduler.busy_blocks.ical import FeedError
from scheduler.busy_blocks.schemas import (
    BulkUpsert,
    BulkUpsertResult,
    BusyBlockCreate,
    BusyBlockRead,
    FeedImportResult,
)
from scheduler.interviewers.dependencies import RangeQuery, ReadableTime, WritableTime
from scheduler.rooms import service as rooms_service
from scheduler.rooms.models import Room
from shared.http.app import json_response
from shared.http.dependencies import Admin, IdempotencyDep, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import Problem, error_responses, not_found
from shared.unit import UnitOfWork

router = APIRouter(tags=["busy-blocks"])

MAX_FEED_BYTES = 5 * 1024 * 1024
FeedName = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$",
        description="Your name for the feed; importing the same name again replaces it.",
        examples=["outlook"],
    ),
]
ICAL_EXAMPLE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ACME//Calendar//EN\r\nBEGIN:VEVENT\r\n"
    "UID:standup@acme\r\nDTSTART;TZID=Asia/Shanghai:20260302T100000\r\n"
    "DTEND;TZID=Asia/Shanghai:20260302T103000\r\nRRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR\r\n"
    "EXDATE;TZID=Asia/Shanghai:20260304T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
_FEED_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "An iCalendar (RFC 5545) feed; RRULE, RDATE and EXDATE are expanded from "
        "now to 180 days ahead. Transparent and cancelled events are not busy; all-day events "
        "block the whole local day in the resource's time zone.",
        "content": {"text/calendar": {"schema": {"type": "string"}, "example": ICAL_EXAMPLE}},
    }
}


async def _room(room_id: uuid.UUID, unit: UnitOfWork) -> Room:
    room = await rooms_service.get(session=unit.session, room_id=room_id)
    if room is None:
        raise not_found("room", room_id)
    return room


async def readable_room(room_id: uuid.UUID, unit: Unit, _: Staff) -> Room:
    return await _room(room_id, unit)


async def writable_room(room_id: uuid.UUID, unit: Unit, _: Admin) -> Room:
    return await _room(room_id, unit)


ReadableRoom = Annotated[Room, Depends(readable_room)]
WritableRoom = Annotated[Room, Depends(writable_room)]


def _created(block: BusyBlockRead, path: str) -> Response:
    return json_response(block, status_code=201, headers={"Location": f"{path}/{block.id}"})


async def _feed_text(request: Request) -> str:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "text/calendar":
        raise Problem(
            415,
            "Unsupported media type",
            "Send the feed as text/calendar.",
            slug="unsupported-media-type",
        )
    body = await request.body()
    if len(body) > MAX_FEED_BYTES:
        raise Problem(
            413,
            "Content too large",
            f"A feed may be at most {MAX_FEED_BYTES} bytes.",
            slug="too-large",
        )
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _malformed(FeedError(f"not UTF-8 text (byte {error.start})")) from None


def _malformed(error: FeedError) -> Problem:
    return Problem(
        422,
        "Malformed iCalendar feed",
        str(error),
        slug="invalid-icalendar",
        line=error.line,
    )


async def _import(
    request: Request, unit: UnitOfWork, *, kind: str, resource_id: uuid.UUID, zone: str, name: str
) -> FeedImportResult:
    text = await _feed_text(request)
    try:
        return await service.import_feed(
            unit=unit,
            resource_kind=kind,
            resource_id=resource_id,
            time_zone=zone,
            name=name,
            text=text,
        )
    except FeedError as error:
        raise _malformed(error) from None


# Interviewers' busy time: admins and the interviewer themselves write; staff read too.


@router.post(
    "/v1/interviewers/{interviewer_id}/busy-blocks",
    status_code=201,
    response_model=BusyBlockRead,
    summary="Mark an interviewer busy over a range (admins or the interviewer)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def create_interviewer_block(
    body: BusyBlockCreate, interviewer: WritableTime, unit: Unit, idempotency: IdempotencyDep
) -> Response:
    async def produce() -> Response:
        block = await service.create(
            unit=unit, resource_kind="interviewer", resource_id=interviewer.id, body=body
        )
        return _created(block, f"/v1/interviewers/{interviewer.id}/busy-blocks")

    return await idempotency.run(unit, produce)


@router.get(
    "/v1/interviewers/{interviewer_id}/busy-blocks",
    response_model=Page[BusyBlockRead],
    summary="An interviewer's busy blocks overlapping a range (at most 180 days), by start",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_interviewer_blocks(
    interviewer: ReadableTime, unit: Unit, page: PageQuery, window: RangeQuery
) -> Page[BusyBlockRead]:
    blocks, next_cursor = await service.list_blocks(
        session=unit.session,
        resource_id=interviewer.id,
        start=window.start,
        end=window.end,
        params=page,
    )
    return Page[BusyBlockRead](items=blocks, next_cursor=next_cursor)


@router.delete(
    "/v1/interviewers/{interviewer_id}/busy-blocks/{block_id}",
    status_code=204,
    summary="Remove a busy block (not one from a feed: re-import the feed instead)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def delete_interviewer_block(
    block_id: uuid.UUID, interviewer: WritableTime, unit: Unit
) -> Response:
    await service.delete(unit=unit, resource_id=interviewer.id, block_id=block_id)
    return Response(status_code=204)


@router.put(
    "/v1/interviewers/{interviewer_id}/calendar-feeds/{name}",
    response_model=FeedImportResult,
    summary="Import an iCalendar feed as the interviewer's busy time, replacing the last import",
    responses=error_responses(401, 403, 404, 413, 415, 422),
    openapi_extra=_FEED_BODY,
)
async def import_interviewer_feed(
    name: FeedName, request: Request, interviewer: WritableTime, unit: Unit
) -> FeedImportResult:
    return await _import(
        request,
        unit,
        kind="interviewer",
        resource_id=interviewer.id,
        zone=interviewer.time_zone,
        name=name,
    )


@router.delete(
    "/v1/interviewers/{interviewer_id}/calendar-feeds/{name}",
    status_code=204,
    summary="Forget an imported feed and its busy blocks",
    responses=error_responses(401, 403, 404, 422),
)
async def delete_interviewer_feed(
    name: FeedName, interviewer: WritableTime, unit: Unit
) -> Response:
    await service.delete_feed(unit=unit, resource_id=interviewer.id, name=name)
    return Response(status_code=204)


# Rooms' busy time: admins write, staff read.


@router.post(
    "/v1/rooms/{room_id}/busy-blocks",
    status_code=201,
    response_model=BusyBlockRead,
    summary="Mark a room busy over a range",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def create_room_block(
    body: BusyBlockCreate, room: WritableRoom, unit: Unit, idempotency: IdempotencyDep
) -> Response:
    async def produce() -> Response:
        block = await service.create(
            unit=unit, resource_kind="room", resource_id=room.id, body=body
        )
        return _created(block, f"/v1/rooms/{room.id}/busy-blocks")

    return await idempotency.run(unit, produce)


@router.get(
    "/v1/rooms/{room_id}/busy-blocks",
    response_model=Page[BusyBlockRead],
    summary="A room's busy blocks overlapping a range (at most 180 days), by start",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_room_blocks(
    room: ReadableRoom, unit: Unit, page: PageQuery, window: RangeQuery
) -> Page[BusyBlockRead]:
    blocks, next_cursor = await service.list_blocks(
        session=unit.session, resource_id=room.id, start=window.start, end=window.end, params=page
    )
    return Page[BusyBlockRead](items=blocks, next_cursor=next_cursor)


@router.delete(
    "/v1/rooms/{room_id}/busy-blocks/{block_id}",
    status_code=204,
    summary="Remove a room's busy block",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def delete_room_block(block_id: uuid.UUID, room: WritableRoom, unit: Unit) -> Response:
    await service.delete(unit=unit, resource_id=room.id, block_id=block_id)
    return Response(status_code=204)


@router.put(
    "/v1/rooms/{room_id}/calendar-feeds/{name}",
    response_model=FeedImportResult,
    summary="Import an iCalendar feed as the room's busy time, replacing the last import",
    responses=error_responses(401, 403, 404, 413, 415, 422),
    openapi_extra=_FEED_BODY,
)
async def import_room_feed(
    name: FeedName, request: Request, room: WritableRoom, unit: Unit
) -> FeedImportResult:
    return await _import(
        request, unit, kind="room", resource_id=room.id, zone=room.time_zone, name=name
    )


# Bulk.


@router.put(
    "/v1/busy-blocks",
    response_model=BulkUpsertResult,
    summary="Upsert up to 1,000 busy blocks of any resources by external id, with per-row results",
    responses=error_responses(401, 403, 422),
)
async def bulk_upsert_blocks(body: BulkUpsert, unit: Unit, _: Admin) -> BulkUpsertResult:
    return await service.bulk_upsert(unit=unit, body=body)
