from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from shared.http.schemas import RequestModel, ResponseModel


class CalendarDayIn(RequestModel):
    kind: Literal["holiday", "workday"] = Field(
        description="`holiday`: a day off even if the official calendar says work; `workday`: "
        "a working day (e.g. a make-up Saturday) even if it would be off.",
        examples=["holiday"],
    )
    name: str | None = Field(
        default=None, min_length=1, max_length=100, examples=["Company anniversary"]
    )


class CalendarDayRead(ResponseModel):
    day: date = Field(examples=["2027-10-01"])
    kind: Literal["holiday", "workday"] = Field(examples=["holiday"])
    name: str | None = Field(examples=["National Day"])
    updated_by: str = Field(examples=["admin-zhao"])
    updated_at: datetime = Field(examples=["2026-03-14T06:00:00Z"])


class CalendarYearRead(ResponseModel):
    year: int = Field(examples=[2027])
    bundled: bool = Field(
        description="Whether the built-in calendar has the State Council's holidays and make-up "
        "workdays of this year.",
        examples=[False],
    )
    known: bool = Field(
        description="Whether due dates in this year count official holidays: bundled, or "
        "holidays were entered as overrides. If false, only weekends are days off.",
        examples=[True],
    )
    days: list[CalendarDayRead] = Field(description="This year's overrides, by date.")
