"""Interview rooms: where they are, how many they seat, what they have, and their calendar."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.calendars.models import HolidayCalendar
from scheduler.interviewers.service import invalid
from scheduler.rooms.models import Room
from scheduler.rooms.schemas import RoomCreate, RoomUpdate
from shared.http.pagination import PageParams, paginate
from shared.problems import conflict, version_mismatch
from shared.unit import UnitOfWork


async def _check_calendar(session: AsyncSession, calendar_id: str) -> None:
    if await session.get(HolidayCalendar, calendar_id) is None:
        raise invalid("calendar_id", "body", f"no calendar {calendar_id!r}")


def _taken() -> Exception:
    return conflict("A room with this name exists at this location.", slug="room-exists")


async def create(*, unit: UnitOfWork, body: RoomCreate) -> Room:
    await _check_calendar(unit.session, body.calendar_id)
    now = unit.clock.now()
    room = Room(
        id=uuid.uuid4(),
        name=body.name,
        location=body.location,
        capacity=body.capacity,
        equipment=list(dict.fromkeys(body.equipment)),
        time_zone=body.time_zone,
        calendar_id=body.calendar_id,
        active=True,
        created_at=now,
        updated_at=now,
    )
    try:
        async with unit.session.begin_nested():
            unit.session.add(room)
    except IntegrityError:
        raise _taken() from None
    return room


async def get(
    *, session: AsyncSession, room_id: uuid.UUID, for_update: bool = False
) -> Room | None:
    return await session.get(Room, room_id, with_for_update=for_update)


async def list_rooms(
    *,
    session: AsyncSession,
    params: PageParams,
    min_capacity: int | None = None,
    equipment: list[str] | None = None,
    location: str | None = None,
    active: bool | None = None,
) -> tuple[list[Room], str | None]:
    statement = sa.select(Room)
    if min_capacity is not None:
        statement = statement.where(Room.capacity >= min_capacity)
    if equipment:
        statement = statement.where(Room.equipment.contains(equipment))
    if location is not None:
        statement = statement.where(Room.location == location)
    if active is not None:
        statement = statement.where(Room.active.is_(active))
    return await paginate(
        session, statement, order_by=[Room.location, Room.name, Room.id], params=params
    )


async def update(
    *, unit: UnitOfWork, room: Room, expected_version: int | None, changes: RoomUpdate
) -> Room:
    if expected_version is not None and expected_version != room.version:
        raise version_mismatch(room.version)
    sent = changes.model_dump(exclude_unset=True)
    if "calendar_id" in sent:
        await _check_calendar(unit.session, sent["calendar_id"])
    if "equipment" in sent:
        sent["equipment"] = list(dict.fromkeys(sent["equipment"]))
    for field, value in sent.items():
        setattr(room, field, value)
    room.updated_at = unit.clock.now()
    try:
        async with unit.session.begin_nested():
            await unit.session.flush()  # bumps the version
    except IntegrityError:
        raise _taken() from None
    return room
