from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Literal

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator

from shared.contacts import check_time_zone
from shared.http.schemas import RequestModel, ResponseModel

MAX_RANGE = timedelta(days=180)
MAX_DURATION_MINUTES = 480

_ID = "0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90"
_ID_2 = "0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f91"
_ROOM = "0193b0a5-4a00-7c1a-9d2e-4b5c6d7e8f92"


class PoolIn(RequestModel):
    pool_id: uuid.UUID = Field(examples=[_ID_2])
    k: int = Field(ge=1, le=20, description="How many of the pool must attend.", examples=[1])


class RoomIn(RequestModel):
    kind: Literal["rooms", "capacity", "remote"] = Field(
        default="remote",
        description="rooms: any of `room_ids`; capacity: any active room holding at least "
        "`min_capacity`; remote: no room.",
        examples=["capacity"],
    )
    room_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100, examples=[[_ROOM]])
    min_capacity: int | None = Field(default=None, ge=1, le=1000, examples=[4])


class WindowIn(RequestModel):
    weekdays: list[int] = Field(
        default_factory=list,
        max_length=7,
        description="ISO weekdays (1 = Monday); empty: every day.",
        examples=[[1, 2, 3, 4, 5]],
    )
    start: time = Field(description="Local time in `time_zone`.", examples=["09:00"])
    end: time = Field(description="Local time; 00:00 means midnight.", examples=["12:00"])

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if any(not 1 <= day <= 7 for day in value):
            raise ValueError("weekdays are ISO numbers 1 (Monday) to 7 (Sunday)")
        return sorted(set(value))

    @field_validator("end")
    @classmethod
    def _end(cls, value: time, info: ValidationInfo) -> time:
        start = info.data.get("start")
        if start is not None and value != time(0) and value <= start:
            raise ValueError("end must be after start")
        return value


class _SlotRequestFields(RequestModel):
    interviewer_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=20,
        description="Interviewers who must all attend.",
        examples=[[_ID]],
    )
    room: RoomIn = Field(default_factory=RoomIn, examples=[{"kind": "capacity", "min_capacity": 4}])
    duration_minutes: int = Field(
        gt=0, le=MAX_DURATION_MINUTES, description="1 to 480 minutes.", examples=[60]
    )
    buffer_before_minutes: int = Field(default=0, ge=0, le=240, examples=[10])
    buffer_after_minutes: int = Field(default=0, ge=0, le=240, examples=[10])
    earliest: AwareDatetime = Field(
        description="The interview starts at or after this.", examples=["2026-03-03T00:00:00Z"]
    )
    latest: AwareDatetime = Field(
        description="The interview ends at or before this; at most 180 days after `earliest`.",
        examples=["2026-03-10T00:00:00Z"],
    )
    min_notice_minutes: int = Field(
        default=0,
        ge=0,
        le=43_200,
        description="No start sooner than this from now.",
        examples=[720],
    )
    step_minutes: Literal[15, 30] = Field(
        default=30,
        description="Starts fall on this grid of the candidate's local clock.",
        examples=[30],
    )
    time_zone: str = Field(
        description="The candidate's IANA time zone.", examples=["America/New_York"]
    )
    windows: list[WindowIn] = Field(
        default_factory=list,
        max_length=50,
        description="The candidate's preferred windows, in `time_zone`.",
        examples=[[{"weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "12:00"}]],
    )
    windows_required: bool = Field(
        default=False,
        description="true: starts outside `windows` are refused; false: they rank lower.",
        examples=[False],
    )
    count: int = Field(default=3, ge=1, le=20, description="How many suggestions.", examples=[3])
    spread_days: bool = Field(
        default=False, description="Suggest different days first.", examples=[True]
    )

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_time_zone(value)

    @field_validator("latest")
    @classmethod
    def _range(cls, value: datetime, info: ValidationInfo) -> datetime:
        earliest = info.data.get("earliest")
        if earliest is None:
            return value
        if value <= earliest:
            raise ValueError("latest must be after earliest")
        if value - earliest > MAX_RANGE:
            raise ValueError("the range from earliest to latest may not exceed 180 days")
        return value


class ProposalCreate(_SlotRequestFields):
    job_id: uuid.UUID | None = Field(
        default=None,
        description="The application's job. Optional when the scheduler knows the application "
        "from a stage change into an interview stage; then it must match.",
        examples=[_ID_2],
    )
    candidate_id: uuid.UUID | None = Field(
        default=None,
        description="The application's candidate; optional and checked like `job_id`.",
        examples=[_ID],
    )
    pools: list[PoolIn] = Field(
        default_factory=list,
        max_length=10,
        description="k of each pool attend as well (excluding required interviewers).",
        examples=[[{"pool_id": _ID_2, "k": 1}]],
    )


class PoolRead(ResponseModel):
    pool_id: uuid.UUID | None = Field(examples=[_ID_2])
    member_ids: list[uuid.UUID] = Field(examples=[[_ID]])
    k: int = Field(examples=[1])


class SlotRequestRead(_SlotRequestFields):
    """The request as it was computed (pools with the members they had then)."""

    pools: list[PoolRead] = Field(
        default_factory=list, examples=[[{"pool_id": _ID_2, "member_ids": [_ID], "k": 1}]]
    )


class ReasonRead(ResponseModel):
    factor: Literal["candidate_preference", "time_of_day", "load_balance", "earliness"] = Field(
        examples=["time_of_day"]
    )
    weight: float = Field(description="Its share of the score.", examples=[0.2])
    score: float = Field(description="0 (worst) to 1 (best).", examples=[1.0])
    note: str = Field(examples=["starts 10:00 in the candidate's time zone"])


class SuggestionRead(ResponseModel):
    index: int = Field(description="Its position, 0 = best; a booking names it.", examples=[0])
    starts_at: datetime = Field(examples=["2026-03-03T02:00:00Z"])
    ends_at: datetime = Field(examples=["2026-03-03T03:00:00Z"])
    interviewer_ids: list[uuid.UUID] = Field(examples=[[_ID]])
    room_id: uuid.UUID | None = Field(examples=[_ROOM])
    score: float = Field(description="0 to 1, the weighted reasons.", examples=[0.92])
    reasons: list[ReasonRead]


class DiagnosticsRead(ResponseModel):
    considered: int = Field(
        description="Start times on the grid between earliest and latest.", examples=[336]
    )
    feasible: int = Field(description="Start times at which everything fits.", examples=[2])
    refused: dict[str, int] = Field(
        description="Start times refused, each under the first constraint it failed: "
        "min_notice, outside_candidate_windows, interviewer_busy, daily_cap, weekly_cap, "
        "pool_short, no_room_free.",
        examples=[{"interviewer_busy": 300, "daily_cap": 4, "no_room_free": 2}],
    )
    message: str = Field(
        examples=[
            "Found 2 of 3 suggestion(s): 2 of 336 start times considered fit; refused: 300 a "
            "required interviewer was busy or off work, 4 a required interviewer had reached "
            "their daily cap."
        ]
    )


class ProposalRead(ResponseModel):
    id: uuid.UUID = Field(examples=[_ID])
    application_id: uuid.UUID = Field(examples=[_ID_2])
    job_id: uuid.UUID = Field(examples=[_ID])
    candidate_id: uuid.UUID = Field(examples=[_ID_2])
    request: SlotRequestRead
    suggestions: list[SuggestionRead]
    diagnostics: DiagnosticsRead
    created_by: str = Field(examples=["hr-alice"])
    created_at: datetime = Field(examples=["2026-03-02T01:00:00Z"])
