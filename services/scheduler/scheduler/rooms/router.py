from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from scheduler.rooms import service
from scheduler.rooms.models import Room
from scheduler.rooms.schemas import RoomCreate, RoomRead, RoomUpdate
from shared.http.app import json_response
from shared.http.dependencies import Admin, IdempotencyDep, IfMatch, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses, not_found

router = APIRouter(prefix="/v1/rooms", tags=["rooms"])


def _read(room: Room, *, status_code: int = 200, location: bool = False) -> Response:
    headers = {"ETag": f'"{room.version}"'}
    if location:
        headers["Location"] = f"/v1/rooms/{room.id}"
    return json_response(RoomRead.model_validate(room), status_code=status_code, headers=headers)


@router.post(
    "",
    status_code=201,
    response_model=RoomRead,
    summary="Add an interview room",
    responses=error_responses(401, 403, 409, 422),
)
async def create_room(
    body: RoomCreate, unit: Unit, _: Admin, idempotency: IdempotencyDep
) -> Response:
    async def produce() -> Response:
        return _read(await service.create(unit=unit, body=body), status_code=201, location=True)

    return await idempotency.run(unit, produce)


@router.get(
    "",
    response_model=Page[RoomRead],
    summary="Rooms by location and name; filter by seats, equipment, location, active",
    responses=error_responses(400, 401, 403, 422),
)
async def list_rooms(
    unit: Unit,
    _: Staff,
    page: PageQuery,
    min_capacity: Annotated[int | None, Query(ge=1, examples=[4])] = None,
    equipment: Annotated[
        list[str] | None, Query(max_length=20, description="All of these.", examples=[["screen"]])
    ] = None,
    location: Annotated[str | None, Query(max_length=200, examples=["Shanghai HQ"])] = None,
    active: Annotated[bool | None, Query(examples=[True])] = None,
) -> Page[RoomRead]:
    rooms, next_cursor = await service.list_rooms(
        session=unit.session,
        params=page,
        min_capacity=min_capacity,
        equipment=equipment,
        location=location,
        active=active,
    )
    return Page[RoomRead](
        items=[RoomRead.model_validate(r) for r in rooms], next_cursor=next_cursor
    )


@router.get(
    "/{room_id}",
    response_model=RoomRead,
    summary="One room; its ETag is its version",
    responses=error_responses(401, 403, 404, 422),
)
async def get_room(room_id: uuid.UUID, unit: Unit, _: Staff) -> Response:
    room = await service.get(session=unit.session, room_id=room_id)
    if room is None:
        raise not_found("room", room_id)
    return _read(room)


@router.patch(
    "/{room_id}",
    response_model=RoomRead,
    summary="Change a room (or retire it with active: false)",
    responses=error_responses(400, 401, 403, 404, 409, 412, 422),
)
async def update_room(
    room_id: uuid.UUID, body: RoomUpdate, unit: Unit, _: Admin, expected_version: IfMatch
) -> Response:
    room = await service.get(session=unit.session, room_id=room_id, for_update=True)
    if room is None:
        raise not_found("room", room_id)
    return _read(
        await service.update(unit=unit, room=room, expected_version=expected_version, changes=body)
    )
