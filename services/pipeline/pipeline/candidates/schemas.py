from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from pipeline.candidates.contacts import normalize_email, normalize_phone
from shared.http.schemas import RequestModel, ResponseModel

Locale = Literal["zh-CN", "en"]
Email = Annotated[
    str, StringConstraints(min_length=3, max_length=254), AfterValidator(normalize_email)
]
Phone = Annotated[
    str, StringConstraints(min_length=3, max_length=40), AfterValidator(normalize_phone)
]


class CandidateIn(RequestModel):
    full_name: str = Field(min_length=1, max_length=200, examples=["Li Lei"])
    email: Email = Field(
        description="Validated and stored normalized, in lower case.",
        examples=["li.lei@example.com"],
    )
    phone: Phone | None = Field(
        default=None,
        description="Validated and stored in E.164; a number without a country code is read as "
        "a mainland China number.",
        examples=["13812345678", "+8613812345678"],
    )
    locale: Locale = Field(
        default="zh-CN",
        description="The language the candidate is written to in (for a new candidate).",
        examples=["en"],
    )


class CandidateUpdate(RequestModel):
    """A correction of a candidate's data: only the fields given change. The email and the
    phone are recognised again by their new values (another candidate's is refused)."""

    full_name: str | None = Field(default=None, min_length=1, max_length=200, examples=["Li Lei"])
    email: Email | None = Field(
        default=None,
        description="Validated and stored normalized, in lower case. It cannot be removed.",
        examples=["li.lei@example.com"],
    )
    phone: Phone | None = Field(
        default=None,
        description="Validated and stored in E.164; `null` removes the number.",
        examples=["+8613812345678"],
    )
    locale: Locale | None = Field(default=None, examples=["en"])

    @field_validator("full_name", "email", "locale")
    @classmethod
    def _not_removed(cls, value: str | None) -> str | None:
        # Only a value given is checked: ``null`` here would remove what every candidate has.
        if value is None:
            raise ValueError("cannot be removed")
        return value

    @model_validator(mode="after")
    def _something_to_change(self) -> CandidateUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of full_name, email, phone, locale")
        return self


class CandidateRead(ResponseModel):
    """A candidate's contact data, decrypted for a staff member who may see the application."""

    id: uuid.UUID = Field(examples=["0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"])
    full_name: str = Field(examples=["Li Lei"])
    email: str = Field(examples=["li.lei@example.com"])
    phone: str | None = Field(examples=["+8613812345678"])
    locale: Locale = Field(examples=["zh-CN"])
    created_at: datetime
    updated_at: datetime


MAX_CONTACT_LOOKUP = 500


class ContactLookup(RequestModel):
    candidate_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=MAX_CONTACT_LOOKUP,
        description=f"Up to {MAX_CONTACT_LOOKUP} candidates.",
        examples=[["0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"]],
    )


class ContactRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"])
    full_name: str = Field(examples=["Li Lei"])
    email: str = Field(examples=["li.lei@example.com"])
    phone: str | None = Field(examples=["+8613812345678"])
    locale: Locale = Field(examples=["zh-CN"])


class ContactsRead(ResponseModel):
    items: list[ContactRead] = Field(description="The candidates found, in no set order.")
