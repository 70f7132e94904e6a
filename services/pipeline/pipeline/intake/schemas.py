from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field, SkipValidation

from pipeline.candidates.schemas import CandidateIn
from shared.http.schemas import RequestModel, ResponseModel
from shared.problems import FieldError

MAX_BULK_ROWS = 1000


class ApplicationCreate(RequestModel):
    candidate: CandidateIn


class BulkApplicationsCreate(RequestModel):
    # Rows are validated one by one by the service (a bad row is reported, not fatal), so the
    # schema documents them but does not validate them here.
    rows: list[SkipValidation[ApplicationCreate]] = Field(
        min_length=1,
        max_length=MAX_BULK_ROWS,
        description=f"Up to {MAX_BULK_ROWS} applications, each like the single create's body.",
        examples=[
            [
                {"candidate": {"full_name": "Li Lei", "email": "li.lei@example.com"}},
                {
                    "candidate": {
                        "full_name": "Han Meimei",
                        "email": "han.meimei@example.com",
                        "phone": "13812345678",
                        "locale": "en",
                    }
                },
            ]
        ],
    )


class BulkRowResult(ResponseModel):
    index: int = Field(description="The row's position in `rows`, from 0.", examples=[0])
    outcome: Literal["created", "exists", "invalid"] = Field(
        description="`created`: a new application; `exists`: the candidate had already applied "
        "to the job (also for a repeated row, or a retry); `invalid`: see `errors`.",
        examples=["created"],
    )
    application_id: uuid.UUID | None = Field(
        description="The new or the existing application.",
        examples=["0193b0a5-7a8b-7c9d-8e0f-1a2b3c4d5e6f"],
    )
    errors: list[FieldError] | None = Field(
        default=None,
        description="For `invalid` rows: each bad field, named within the row.",
        examples=[
            [
                {
                    "field": "candidate.email",
                    "location": "body",
                    "message": "Value error, not a valid email address",
                    "code": "value_error",
                }
            ]
        ],
    )


class BulkApplicationsRead(ResponseModel):
    created: int = Field(examples=[998])
    existing: int = Field(examples=[1])
    invalid: int = Field(examples=[1])
    results: list[BulkRowResult] = Field(description="One result per row, in the rows' order.")
