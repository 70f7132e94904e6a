"""Arranging the consent, erasure and retention tests: people enter the pool the way they do in
production (the pipeline's events on the broker, contacts read from the real pipeline served on
a loopback port), and the callers of the access matrix."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from aio_pika.abc import AbstractRobustConnection

from shared.clock import Clock
from shared.events.envelope import CloudEvent, EventData
from shared.events.pipeline import (
    Actor,
    ApplicationCreatedV1,
    JobChangedV1,
    StageChangedV1,
    StageRef,
)
from talentpool.app import spec as talentpool_spec
from tests.notifier.dispatch_support import Pipeline, real_pipeline
from tests.support.broker import publish
from tests.support.running import Running, running, wait_for
from tests.support.tokens import auth

OWNER = "hr-alice"
ADMIN = auth("admin", "admin-zoe")
SEARCHER = auth("hr", "hr-carol", scopes=("talentpool:search",))
JOB_OWNER = auth("hr", OWNER)
STRANGER = auth("hr", "hr-bob")
INTERVIEWER = auth("interviewer", "int-ivan")

FIRST = StageRef(key="ai_interview", kind="ai_interview")
ROUND_1 = StageRef(key="round_1", kind="interview")


def envelope(data: EventData, *, subject: uuid.UUID, at: datetime, sequence: int = 1) -> CloudEvent:
    return CloudEvent(
        id=uuid.uuid4(),
        source=f"/{data.producer}",
        type=data.event_type,
        time=at,
        subject=str(subject),
        data=data.model_dump(mode="json"),
        sequence=sequence,
    )


async def send(amqp: AbstractRobustConnection, event: CloudEvent) -> None:
    await publish(
        amqp,
        event.model_dump_json(exclude_none=True).encode(),
        routing_key=event.type,
        message_type=event.type,
    )


@dataclass
class Person:
    """A candidate of the pipeline with one application to a job owned by ``hr-alice``."""

    candidate_id: uuid.UUID = field(default_factory=uuid.uuid4)
    job_id: uuid.UUID = field(default_factory=uuid.uuid4)
    application_id: uuid.UUID = field(default_factory=uuid.uuid4)
    version: int = 1

    @property
    def profile_id(self) -> uuid.UUID:
        # A new candidate's profile takes the candidate's id.
        return self.candidate_id

    async def applies(self, amqp: AbstractRobustConnection, *, at: datetime | None = None) -> None:
        moment = at or datetime.now(UTC)
        await send(
            amqp,
            envelope(
                JobChangedV1(
                    job_id=self.job_id,
                    title="Backend engineer",
                    job_type="basic",
                    status="open",
                    owner_ids=[OWNER],
                    occurred_at=moment,
                ),
                subject=self.job_id,
                at=moment,
            ),
        )
        await send(
            amqp,
            envelope(
                ApplicationCreatedV1(
                    application_id=self.application_id,
                    job_id=self.job_id,
                    candidate_id=self.candidate_id,
                    stage=FIRST,
                    source="api",
                    locale="en",
                    occurred_at=moment,
                ),
                subject=self.application_id,
                at=moment,
            ),
        )

    async def ends(
        self,
        amqp: AbstractRobustConnection,
        *,
        at: datetime,
        status: str = "rejected",
        reason: str | None = None,
    ) -> None:
        self.version += 1
        await send(
            amqp,
            envelope(
                StageChangedV1(
                    application_id=self.application_id,
                    job_id=self.job_id,
                    candidate_id=self.candidate_id,
                    transition="reject" if status == "rejected" else "withdraw",
                    from_stage=FIRST,
                    to_stage=FIRST,
                    status=status,
                    reason=reason,
                    actor=Actor(kind="hr", id=OWNER),
                    occurred_at=at,
                ),
                subject=self.application_id,
                at=at,
                sequence=self.version,
            ),
        )


async def profile(service: Running, profile_id: uuid.UUID) -> dict[str, Any]:
    response = await service.client.get(f"/v1/profiles/{profile_id}", headers=ADMIN)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def in_pool(service: Running, person: Person, **expected: Any) -> dict[str, Any]:
    """Wait until the person's profile exists (and shows ``expected`` values)."""

    async def found() -> dict[str, Any] | None:
        response = await service.client.get(f"/v1/profiles/{person.profile_id}", headers=ADMIN)
        if response.status_code != 200:
            return None
        body: dict[str, Any] = response.json()
        return body if all(body.get(k) == v for k, v in expected.items()) else None

    result: dict[str, Any] = await wait_for(found, timeout=15, what="the person in the pool")
    return result


async def erase(
    service: Running, body: dict[str, Any], headers: dict[str, str] = ADMIN
) -> httpx.Response:
    return await service.client.post("/v1/erasure-requests", json=body, headers=headers)


async def report(service: Running, erasure_id: str) -> dict[str, Any]:
    response = await service.client.get(f"/v1/erasure-requests/{erasure_id}", headers=ADMIN)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@contextlib.asynccontextmanager
async def pool_with_pipeline(
    *, clock: Clock | None = None, **settings: Any
) -> AsyncIterator[tuple[Running, Pipeline]]:
    """The talent pool consuming from its queue, its matcher reading contacts from the real
    pipeline served on a loopback port."""
    async with (
        real_pipeline() as pipeline,
        running(
            talentpool_spec,
            clock=clock,
            pipeline_url=pipeline.url,
            matching_idle_s=0.1,
            **settings,
        ) as pool,
    ):
        yield pool, pipeline
