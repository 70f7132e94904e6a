from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from shared.http.schemas import ResponseModel

Source = Literal["pipeline", "scheduler", "notifier"]


class TimelineEntryRead(ResponseModel):
    id: int = Field(examples=[42])
    candidate_id: uuid.UUID = Field(
        description="The pipeline candidate it happened to (a profile may hold several).",
        examples=["0193b0a5-7f80-7b92-9c3d-4e5f6a7b8c9d"],
    )
    application_id: uuid.UUID | None = Field(examples=["0193b0a5-91a2-7cb4-8d5e-6f7a8b9c0d1e"])
    job_id: uuid.UUID | None = Field(examples=["0193b0a5-a2b3-7dc5-9e6f-7a8b9c0d1e2f"])
    kind: str = Field(
        description="applied, stage_changed, result_released, invited, opened, clicked, "
        "started, completed, report_ready, expired, cancelled, window_requested, booked, "
        "rescheduled, no_show, replied, message_from_hr, delivered, bounced, ignored.",
        examples=["opened"],
    )
    source: Source = Field(description="The service that reported it.", examples=["scheduler"])
    occurred_at: datetime = Field(
        description="When it happened (from the event), not when the pool heard of it.",
        examples=["2026-03-02T10:00:00Z"],
    )
    data: dict[str, Any] = Field(
        description="What else the event said (never free text or contact data); entries about "
        "an invitation name it in `invitation` (ai_interview or live_interview).",
        examples=[{"invitation": "ai_interview", "invitation_id": "0193b0a5-b3c4-7ed6-8f70"}],
    )
