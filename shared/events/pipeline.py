"""Events the pipeline service produces."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events.envelope import EventData

ActorKind = Literal["hr", "admin", "interviewer", "candidate", "vendor", "system"]
Transition = Literal["advance", "move", "reject", "withdraw", "hire", "reopen"]


class Actor(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: ActorKind
    id: str | None = Field(default=None, description="Subject of the acting user, if any.")


class StageRef(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    key: str = Field(description="The stage's key within its job's template.", examples=["round_2"])
    kind: str = Field(
        description="ai_interview, evaluation, interview, background_check, offer, hired, ...",
        examples=["interview"],
    )


class StageChangedV1(EventData):
    event_type = "pipeline.stage_changed.v1"
    producer = "pipeline"
    summary = "An application moved from one stage to another."

    application_id: UUID
    job_id: UUID
    candidate_id: UUID
    transition: Transition
    from_stage: StageRef | None
    to_stage: StageRef
    reason: str | None = None
    actor: Actor
    occurred_at: AwareDatetime
