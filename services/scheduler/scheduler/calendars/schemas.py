from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from scheduler.interviewers.schemas import CalendarId
from shared.http.schemas import RequestModel, ResponseModel


class CalendarCreate(RequestModel):
    id: CalendarId = Field(
        description="Lowercase letters, digits, `-` and `_`; how resources refer to it.",
        examples=["acme-de"],
    )
    name: str = Field(min_length=1, max_length=200, examples=["ACME Germany"])


class CalendarRead(ResponseModel):
    id: str = Field(examples=["cn"])
    name: str = Field(examples=["China: State Council holidays and make-up workdays"])
    base: Literal["cn", "custom"] = Field(
        description="cn: China's official calendar underneath its days; custom: only "
        "Saturdays and Sundays are off, and its days add holidays and workdays.",
        examples=["cn"],
    )
    created_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])


class CalendarDayPut(RequestModel):
    kind: Literal["holiday", "workday"] = Field(
        description="holiday: no working hours that day; workday: worked even on a weekend "
        "(without its own hours, Monday's apply).",
        examples=["holiday"],
    )
    name: str | None = Field(default=None, max_length=200, examples=["Company day"])


class CalendarDayRead(ResponseModel):
    calendar_id: str = Field(examples=["acme-de"])
    day: date = Field(examples=["2026-10-03"])
    kind: Literal["holiday", "workday"] = Field(examples=["holiday"])
    name: str | None = Field(examples=["Tag der Deutschen Einheit"])
