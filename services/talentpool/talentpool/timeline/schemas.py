from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from shared.http.schemas import ResponseModel


class TimelineEntryRead(ResponseModel):
    id: int = Field(examples=[42])
    application_id: uuid.UUID | None
    kind: str = Field(examples=["stage_changed"])
    occurred_at: datetime
    data: dict[str, Any] = Field(examples=[{"from_stage": "ai_interview", "to_stage": "round_2"}])
