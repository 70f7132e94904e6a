from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from scheduler.interviewers.schemas import CalendarId, TimeZone
from shared.http.schemas import RequestModel, ResponseModel

Equipment = Annotated[str, StringConstraints(min_length=1, max_length=60)]


class RoomCreate(RequestModel):
    name: str = Field(min_length=1, max_length=120, examples=["Everest"])
    location: str = Field(min_length=1, max_length=200, examples=["Shanghai HQ, floor 12"])
    capacity: int = Field(ge=1, le=1000, description="Seats.", examples=[6])
    equipment: list[Equipment] = Field(
        default_factory=list, max_length=50, examples=[["screen", "whiteboard"]]
    )
    time_zone: TimeZone = Field(examples=["Asia/Shanghai"])
    calendar_id: CalendarId = Field(
        default="cn",
        description="The holiday calendar: the room is free whole local workdays of it.",
        examples=["cn"],
    )


class RoomUpdate(RequestModel):
    """Only the fields sent change."""

    name: str | None = Field(default=None, min_length=1, max_length=120, examples=["K2"])
    location: str | None = Field(default=None, min_length=1, max_length=200, examples=["HQ 3F"])
    capacity: int | None = Field(default=None, ge=1, le=1000, examples=[8])
    equipment: list[Equipment] | None = Field(default=None, max_length=50, examples=[["screen"]])
    time_zone: TimeZone | None = Field(default=None, examples=["Asia/Shanghai"])
    calendar_id: CalendarId | None = Field(default=None, examples=["cn"])
    active: bool | None = Field(
        default=None, description="An inactive room is never proposed.", examples=[False]
    )

    @field_validator(
        "name", "location", "capacity", "equipment", "time_zone", "calendar_id", "active"
    )
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be changed but not cleared")
        return value


class RoomRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193b0a5-6c3d-7c1a-9d2e-4b5c6d7e8f93"])
    name: str = Field(examples=["Everest"])
    location: str = Field(examples=["Shanghai HQ, floor 12"])
    capacity: int = Field(examples=[6])
    equipment: list[str] = Field(examples=[["screen", "whiteboard"]])
    time_zone: str = Field(examples=["Asia/Shanghai"])
    calendar_id: str = Field(examples=["cn"])
    active: bool = Field(examples=[True])
    version: int = Field(examples=[1])
    created_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])
    updated_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])
