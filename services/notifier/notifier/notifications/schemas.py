from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from shared.http.schemas import ResponseModel


class NotificationRead(ResponseModel):
    id: uuid.UUID
    kind: str = Field(examples=["stage_changed"])
    recipient_kind: str = Field(examples=["candidate"])
    candidate_id: uuid.UUID
    application_id: uuid.UUID
    status: str = Field(examples=["pending"])
    data: dict[str, Any] = Field(examples=[{"from_stage": "ai_interview", "to_stage": "round_2"}])
    created_at: datetime
