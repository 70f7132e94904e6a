from __future__ import annotations

import uuid
from datetime import datetime
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from scheduler.availability import parse_clock
from shared.contacts import check_time_zone
from shared.http.schemas import RequestModel, ResponseModel

TimeZone = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(check_time_zone),
]
"""An IANA time zone name, checked against the zone database (unknown: 422)."""

Clock = Annotated[str, StringConstraints(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")]
HoursRange = tuple[Clock, Clock]

WORKING_HOURS_EXAMPLE = {
    "1": [["09:00", "12:00"], ["13:30", "18:00"]],
    "2": [["09:00", "12:00"], ["13:30", "18:00"]],
    "3": [["09:00", "12:00"], ["13:30", "18:00"]],
    "4": [["09:00", "12:00"], ["13:30", "18:00"]],
    "5": [["09:00", "12:00"], ["13:30", "16:00"]],
}
_WORKING_HOURS = (
    "Local working hours by ISO weekday (1 = Monday .. 7 = Sunday) in `time_zone`: a list of "
    '`["HH:MM", "HH:MM"]` ranges, start before end, not overlapping; `24:00` ends at midnight. '
    "A weekday left out is not worked. Holidays of the calendar are off; a make-up workday "
    "without hours of its own takes Monday's."
)


def check_working_hours(value: dict[str, list[HoursRange]]) -> dict[str, list[HoursRange]]:
    for weekday, ranges in value.items():
        if weekday not in {"1", "2", "3", "4", "5", "6", "7"}:
            raise ValueError(f"{weekday!r} is not an ISO weekday (1 = Monday .. 7 = Sunday)")
        ordered = sorted(ranges, key=lambda r: parse_clock(r[0]))
        for start, end in ordered:
            if parse_clock(start) >= parse_clock(end):
                raise ValueError(f"weekday {weekday}: {start}-{end} does not start before it ends")
        for (_, end), (start, _) in pairwise(ordered):
            if parse_clock(start) < parse_clock(end):
                raise ValueError(f"weekday {weekday}: ranges overlap at {start}")
    return {k: sorted(v, key=lambda r: parse_clock(r[0])) for k, v in sorted(value.items())}


WorkingHoursIn = Annotated[
    dict[str, Annotated[list[HoursRange], Field(max_length=12)]],
    AfterValidator(check_working_hours),
]
Skill = Annotated[str, StringConstraints(min_length=1, max_length=60)]
CalendarId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


class InterviewerCreate(RequestModel):
    subject: str = Field(
        min_length=1,
        max_length=200,
        description="The interviewer's bearer-token subject (`sub`): how they are recognised.",
        examples=["int-ivan"],
    )
    display_name: str = Field(min_length=1, max_length=200, examples=["Ivan Petrov"])
    time_zone: TimeZone = Field(examples=["Asia/Shanghai"])
    working_hours: WorkingHoursIn = Field(
        description=_WORKING_HOURS, examples=[WORKING_HOURS_EXAMPLE]
    )
    max_per_day: int | None = Field(
        default=None,
        ge=1,
        le=24,
        description="Interviews per local day; null: no cap.",
        examples=[3],
    )
    max_per_week: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="Interviews per ISO week; null: no cap.",
        examples=[10],
    )
    skills: list[Skill] = Field(default_factory=list, max_length=50, examples=[["python", "go"]])
    calendar_id: CalendarId = Field(
        default="cn", description="The holiday calendar (`cn`: China's).", examples=["cn"]
    )

    @field_validator("max_per_week")
    @classmethod
    def _caps(cls, value: int | None, info: ValidationInfo) -> int | None:
        daily = info.data.get("max_per_day")
        if value is not None and daily is not None and daily > value:
            raise ValueError("must not be below max_per_day")
        return value


class InterviewerUpdate(RequestModel):
    """Only the fields sent change; `null` clears a cap."""

    display_name: str | None = Field(
        default=None, min_length=1, max_length=200, examples=["Ivan P."]
    )
    time_zone: TimeZone | None = Field(default=None, examples=["Europe/Berlin"])
    working_hours: WorkingHoursIn | None = Field(
        default=None, description=_WORKING_HOURS, examples=[WORKING_HOURS_EXAMPLE]
    )
    max_per_day: int | None = Field(default=None, ge=1, le=24, examples=[4])
    max_per_week: int | None = Field(default=None, ge=1, le=100, examples=[12])
    skills: list[Skill] | None = Field(default=None, max_length=50, examples=[["python"]])
    calendar_id: CalendarId | None = Field(default=None, examples=["cn"])
    active: bool | None = Field(
        default=None, description="An inactive interviewer is never proposed.", examples=[False]
    )

    @field_validator(
        "display_name", "time_zone", "working_hours", "skills", "calendar_id", "active"
    )
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be changed but not cleared")
        return value


class InterviewerRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90"])
    subject: str = Field(examples=["int-ivan"])
    display_name: str = Field(examples=["Ivan Petrov"])
    time_zone: str = Field(examples=["Asia/Shanghai"])
    working_hours: dict[str, list[list[str]]] = Field(examples=[WORKING_HOURS_EXAMPLE])
    max_per_day: int | None = Field(examples=[3])
    max_per_week: int | None = Field(examples=[10])
    skills: list[str] = Field(examples=[["python", "go"]])
    calendar_id: str = Field(examples=["cn"])
    active: bool = Field(examples=[True])
    pool_ids: list[uuid.UUID] = Field(
        default_factory=list, examples=[["0193b0a5-4a1b-7c1a-9d2e-4b5c6d7e8f91"]]
    )
    version: int = Field(examples=[1])
    created_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])
    updated_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])


class PoolCreate(RequestModel):
    name: str = Field(min_length=1, max_length=120, examples=["backend-panel"])
    description: str | None = Field(
        default=None, max_length=1000, examples=["Senior backend interviewers"]
    )
    member_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=500,
        description="Interviewers to put in the pool at once.",
        examples=[["0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90"]],
    )


class InterviewerPoolRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193b0a5-4a1b-7c1a-9d2e-4b5c6d7e8f91"])
    name: str = Field(examples=["backend-panel"])
    description: str | None = Field(examples=["Senior backend interviewers"])
    member_ids: list[uuid.UUID] = Field(examples=[["0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90"]])
    created_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])


OverrideKind = Literal["available", "unavailable"]


class OverrideCreate(RequestModel):
    starts_at: AwareDatetime = Field(examples=["2026-03-07T10:00:00+08:00"])
    ends_at: AwareDatetime = Field(
        description="After `starts_at`, at most 180 days later.",
        examples=["2026-03-07T14:00:00+08:00"],
    )
    kind: OverrideKind = Field(
        description="available: extra time outside working hours (also on a holiday); "
        "unavailable: time off inside them.",
        examples=["available"],
    )
    note: str | None = Field(default=None, max_length=500, examples=["Saturday hiring day"])

    @field_validator("ends_at")
    @classmethod
    def _range(cls, value: datetime, info: ValidationInfo) -> datetime:
        return ends_after_start(value, info)


class OverrideRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193b0a5-5b2c-7c1a-9d2e-4b5c6d7e8f92"])
    interviewer_id: uuid.UUID = Field(examples=["0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90"])
    starts_at: datetime = Field(examples=["2026-03-07T02:00:00Z"])
    ends_at: datetime = Field(examples=["2026-03-07T06:00:00Z"])
    kind: OverrideKind = Field(examples=["available"])
    note: str | None = Field(examples=["Saturday hiring day"])
    created_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])


MAX_RANGE_DAYS = 180


def ends_after_start(value: datetime, info: ValidationInfo) -> datetime:
    """A field validator for ``ends_at``: checked against ``starts_at`` when that is valid."""
    starts_at = info.data.get("starts_at")
    if starts_at is not None:
        check_range(starts_at, value)
    return value


def check_range(starts_at: datetime, ends_at: datetime) -> None:
    """Aware, end after start, at most ``MAX_RANGE_DAYS`` long (ValueError otherwise)."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("times need an offset (RFC 3339), such as 2026-03-07T10:00:00+08:00")
    if ends_at <= starts_at:
        raise ValueError("ends_at must be after starts_at")
    if (ends_at - starts_at).total_seconds() > MAX_RANGE_DAYS * 86400:
        raise ValueError(f"a range may span at most {MAX_RANGE_DAYS} days")
