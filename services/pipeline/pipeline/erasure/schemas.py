from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.http.schemas import ResponseModel


class ErasureRequested(ResponseModel):
    status: Literal["requested"] = Field(
        description="Passed on to the talent pool, which erases the candidate's data in every "
        "service; this link then stops working.",
        examples=["requested"],
    )
    requested_at: datetime = Field(
        description="When the candidate first asked (the same on every repeat).",
        examples=["2026-03-14T06:00:00Z"],
    )
