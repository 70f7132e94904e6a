from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.http.schemas import ResponseModel


class InterviewNeedRead(ResponseModel):
    application_id: uuid.UUID
    job_id: uuid.UUID
    candidate_id: uuid.UUID
    stage_key: str = Field(examples=["round_2"])
    status: Literal["open", "withdrawn"] = Field(
        description="open: an interview must be scheduled; withdrawn: the application moved on.",
        examples=["open"],
    )
    application_version: int = Field(examples=[2])
    opened_at: datetime
    updated_at: datetime
