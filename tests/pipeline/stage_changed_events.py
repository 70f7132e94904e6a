"""``pipeline.stage_changed.v1`` as the pipeline publishes it, for the tests of the services
that consume it: build the CloudEvent, put it on the run's exchange, and tell when a consumer
has taken it off its queue."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aio_pika.abc import AbstractRobustConnection
from prometheus_client import REGISTRY

from shared.events.envelope import CloudEvent
from shared.events.pipeline import Actor, StageChangedV1, StageRef, Transition
from tests.support.broker import publish

STAGE_CHANGED = StageChangedV1.event_type

AI_INTERVIEW = StageRef(key="ai_interview", kind="ai_interview")
ROUND_1 = StageRef(key="round_1", kind="interview")
ROUND_2 = StageRef(key="round_2", kind="interview")
OFFER = StageRef(key="offer", kind="offer")


@dataclass(frozen=True)
class AnApplication:
    """An application the pipeline knows; ``moved`` is the event of one of its transitions."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    job_id: uuid.UUID = field(default_factory=uuid.uuid4)
    candidate_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def moved(
        self,
        *,
        sequence: int,
        to_stage: StageRef = ROUND_1,
        from_stage: StageRef | None = AI_INTERVIEW,
        transition: Transition = "move",
        reason: str | None = None,
        occurred_at: datetime | None = None,
        event_id: uuid.UUID | None = None,
    ) -> CloudEvent:
        at = occurred_at or datetime.now(UTC)
        data = StageChangedV1(
            application_id=self.id,
            job_id=self.job_id,
            candidate_id=self.candidate_id,
            transition=transition,
            from_stage=from_stage,
            to_stage=to_stage,
            reason=reason,
            actor=Actor(kind="hr", id="hr-alice"),
            occurred_at=at,
        )
        return CloudEvent(
            id=event_id or uuid.uuid4(),
            source="/pipeline",
            type=STAGE_CHANGED,
            time=at,
            subject=str(self.id),
            data=data.model_dump(mode="json"),
            sequence=sequence,
        )


async def deliver(amqp: AbstractRobustConnection, event: CloudEvent) -> None:
    """Publish the event the way the pipeline's relay does."""
    await publish(
        amqp,
        event.model_dump_json(exclude_none=True).encode(),
        routing_key=event.type,
        message_type=event.type,
    )


def consumed(service: str, outcome: str) -> float:
    """How many stage_changed events ``service`` has acknowledged with ``outcome`` (handled,
    duplicate, ...) in this process; counted only after the handler's transaction committed."""
    value = REGISTRY.get_sample_value(
        "events_consumed_total", {"service": service, "type": STAGE_CHANGED, "outcome": outcome}
    )
    return value or 0.0
