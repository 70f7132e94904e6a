from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from shared.http.schemas import RequestModel, ResponseModel

Purpose = Literal["talent_pool", "re_engagement"]
Source = Literal["application_form", "email", "phone_call", "portal", "in_person", "other"]


class ConsentWrite(RequestModel):
    granted: bool = Field(
        description="True: the person agreed; false: they refused or withdrew their consent.",
        examples=[True],
    )
    source: Source = Field(
        description="How the answer was given: on the application form, by email, on a phone "
        "call, in the candidate portal, in person, or otherwise.",
        examples=["phone_call"],
    )
    expires_at: AwareDatetime | None = Field(
        default=None,
        description="Until when a granted consent holds (none: until withdrawn). Must be in the "
        "future, and only with a granted consent.",
        examples=["2027-03-31T00:00:00+08:00"],
    )


class ConsentRead(ResponseModel):
    profile_id: uuid.UUID = Field(examples=["0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"])
    purpose: Purpose = Field(examples=["talent_pool"])
    granted: bool = Field(examples=[True])
    in_force: bool = Field(
        description="Granted and not expired now: what eligibility and retention go by.",
        examples=[True],
    )
    source: Source = Field(examples=["phone_call"])
    recorded_by: str | None = Field(
        description="The subject of the staff member who recorded it.", examples=["hr-alice"]
    )
    recorded_at: datetime = Field(examples=["2026-03-14T06:00:00Z"])
    expires_at: datetime | None = Field(examples=["2027-03-30T16:00:00Z"])


class ConsentsRead(ResponseModel):
    items: list[ConsentRead] = Field(
        description="The answer in force for each purpose recorded (a purpose never asked about "
        "is missing: no consent)."
    )


class ConsentChangeRead(ResponseModel):
    id: int = Field(examples=[42])
    purpose: Purpose = Field(examples=["talent_pool"])
    granted: bool = Field(examples=[False])
    source: Source = Field(examples=["email"])
    recorded_by: str | None = Field(examples=["hr-alice"])
    recorded_at: datetime = Field(examples=["2026-03-14T06:00:00Z"])
    expires_at: datetime | None = Field(examples=[None])
