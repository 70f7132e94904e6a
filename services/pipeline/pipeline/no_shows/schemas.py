from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from shared.http.schemas import RequestModel, ResponseModel

NoShowKind = Literal["interview", "offer", "ai_interview"]


class NoShowCreate(RequestModel):
    stage_key: str = Field(
        min_length=1,
        max_length=40,
        description="The job's stage the candidate did not turn up for.",
        examples=["round_1"],
    )
    kind: NoShowKind = Field(
        description="`interview`: missed an agreed interview; `offer`: did not start after "
        "accepting an offer; `ai_interview`: never took the AI interview.",
        examples=["interview"],
    )
    occurred_at: AwareDatetime | None = Field(
        default=None,
        description="When it happened (RFC 3339); now if left out. Not in the future.",
        examples=["2025-03-05T10:00:00+08:00"],
    )


class NoShowRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a60"])
    application_id: uuid.UUID = Field(examples=["0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c"])
    stage_key: str = Field(examples=["round_1"])
    kind: str = Field(examples=["interview"])
    policy_mode: str = Field(
        description="The job type's result-release policy mode when it was recorded.",
        examples=["approval"],
    )
    recorded_by: str | None = Field(examples=["hr-alice"])
    occurred_at: datetime = Field(examples=["2025-03-05T02:00:00+00:00"])
