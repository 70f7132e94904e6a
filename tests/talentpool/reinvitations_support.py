"""Arranging the pool for the tests of re-invitations, recommendations and the no-show group.

Most of these tests are about what the pool does with people it already knows, not about how it
came to know them (the ingestion tests cover that), so their people, applications, tags and
consents are written straight into the pool's tables through its own models: hundreds of people
in a few statements instead of thousands of events. The tests that prove the whole path publish
real events on the broker instead.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection

from shared.events.envelope import CloudEvent, EventData
from talentpool.app import spec as talentpool_spec
from talentpool.consents.models import Consent
from talentpool.jobs.models import ApplicationRecord, Job
from talentpool.profiles.models import Profile, ProfileMember
from talentpool.tags.models import ProfileTag
from talentpool.timeline.models import TimelineEntry
from tests.pipeline.stage_changed_events import deliver
from tests.support import environment
from tests.support.running import Running, running
from tests.support.tokens import auth

OWNER = "hr-owner"
HR_OWNER = auth("hr", OWNER)
HR_OTHER = auth("hr", "hr-stranger")
HR_SCOPED = auth("hr", "hr-searcher", scopes=("talentpool:search",))
ADMIN = auth("admin", "admin-1")
INTERVIEWER = auth("interviewer", "int-1")


def now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def pool_service() -> AsyncIterator[Running]:
    """The talent pool consuming from its queue, without the matcher worker (it reads contacts
    from the pipeline, which these tests do not run)."""
    async with running(talentpool_spec, run_workers=False) as service:
        yield service


@dataclass(frozen=True)
class Person:
    profile_id: uuid.UUID
    candidate_id: uuid.UUID


class Pool:
    """Rows written straight into the pool's tables."""

    def __init__(self, service: Running) -> None:
        self.service = service

    async def _insert(self, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        async with self.service.runtime.db.transaction() as session:
            for start in range(0, len(rows), 1000):
                await session.execute(model.__table__.insert(), list(rows[start : start + 1000]))

    async def job(self, *, owner_ids: Sequence[str] = (OWNER,), status: str = "open") -> uuid.UUID:
        job_id = uuid.uuid4()
        await self._insert(
            Job,
            [
                {
                    "id": job_id,
                    "title": "Backend engineer",
                    "job_type": "default",
                    "status": status,
                    "owner_ids": list(owner_ids),
                    "changed_at": now(),
                }
            ],
        )
        return job_id

    async def people(
        self,
        count: int,
        *,
        skills: Sequence[str] = (),
        engagement_score: int = 50,
        last_activity_at: datetime | None = None,
        consent: bool | None = True,
        consent_expires_at: datetime | None = None,
        **columns: Any,
    ) -> list[Person]:
        """``count`` people, each with one candidate, and their ``re_engagement`` answer."""
        at = now()
        people = [Person(uuid.uuid4(), uuid.uuid4()) for _ in range(count)]
        await self._insert(
            Profile,
            [
                {
                    "id": p.profile_id,
                    "skills": list(skills),
                    "engagement_score": engagement_score,
                    "first_seen_at": at - timedelta(days=400),
                    "last_activity_at": last_activity_at or at,
                    "created_at": at,
                    "updated_at": at,
                    **columns,
                }
                for p in people
            ],
        )
        await self._insert(
            ProfileMember,
            [
                {
                    "candidate_id": p.candidate_id,
                    "profile_id": p.profile_id,
                    "home_profile_id": p.profile_id,
                    "joined_at": at,
                }
                for p in people
            ],
        )
        if consent is not None:
            await self.consent(people, granted=consent, expires_at=consent_expires_at)
        return people

    async def person(self, **kwargs: Any) -> Person:
        [person] = await self.people(1, **kwargs)
        return person

    async def consent(
        self, people: Sequence[Person], *, granted: bool, expires_at: datetime | None = None
    ) -> None:
        await self._insert(
            Consent,
            [
                {
                    "profile_id": p.profile_id,
                    "purpose": "re_engagement",
                    "granted": granted,
                    "source": "application_form",
                    "recorded_at": now(),
                    "expires_at": expires_at,
                }
                for p in people
            ],
        )

    async def tag(
        self, people: Sequence[Person], tag: str, *, until: datetime | None = None
    ) -> None:
        await self._insert(
            ProfileTag,
            [
                {
                    "profile_id": p.profile_id,
                    "tag": tag,
                    "source": "manual",
                    "until": until,
                    "added_by": OWNER,
                    "added_at": now(),
                }
                for p in people
            ],
        )

    async def applications(
        self,
        people: Sequence[Person],
        job_id: uuid.UUID,
        *,
        ai_invited_at: datetime | None = None,
        ai_completed_at: datetime | None = None,
        ai_expired_at: datetime | None = None,
        status: str = "active",
    ) -> list[uuid.UUID]:
        ids = [uuid.uuid4() for _ in people]
        at = now()
        await self._insert(
            ApplicationRecord,
            [
                {
                    "id": application_id,
                    "candidate_id": p.candidate_id,
                    "job_id": job_id,
                    "stage_key": "ai_interview",
                    "stage_kind": "ai_interview",
                    "status": status,
                    "furthest_rank": 1,
                    "furthest_stage_kind": "ai_interview",
                    "version": 1,
                    "applied_at": at,
                    "updated_at": at,
                    "ai_invited_at": ai_invited_at,
                    "ai_completed_at": ai_completed_at,
                    "ai_expired_at": ai_expired_at,
                }
                for application_id, p in zip(ids, people, strict=True)
            ],
        )
        return ids

    async def timeline(
        self,
        person: Person,
        application_id: uuid.UUID,
        job_id: uuid.UUID,
        entries: Sequence[tuple[str, str, dict[str, Any]]],
    ) -> None:
        """``(kind, source, data)`` entries about the application, a minute apart."""
        at = now()
        await self._insert(
            TimelineEntry,
            [
                {
                    "candidate_id": person.candidate_id,
                    "application_id": application_id,
                    "job_id": job_id,
                    "kind": kind,
                    "source": source,
                    "occurred_at": at + timedelta(minutes=i),
                    "data": data,
                    "source_event_id": uuid.uuid4(),
                }
                for i, (kind, source, data) in enumerate(entries)
            ],
        )


async def publish(amqp: AbstractRobustConnection, data: EventData, *, subject: str) -> CloudEvent:
    """Put an event on the run's exchange as its producer's relay would."""
    event = CloudEvent(
        id=uuid.uuid4(),
        source=f"/{data.producer}",
        type=data.event_type,
        time=now(),
        subject=subject,
        data=data.model_dump(mode="json"),
        sequence=1,
    )
    await deliver(amqp, event)
    return event


@asynccontextmanager
async def listening(
    amqp: AbstractRobustConnection, event_types: Sequence[str]
) -> AsyncIterator[AbstractQueue]:
    """A queue of the test's own bound to the run's exchange: what the pool publishes."""
    channel = await amqp.channel()
    try:
        exchange = await channel.get_exchange(f"{environment.BROKER_NAMESPACE}.events")
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for event_type in event_types:
            await queue.bind(exchange, routing_key=event_type)
        yield queue
    finally:
        await channel.close()


async def take(queue: AbstractQueue, seen: list[dict[str, Any]], count: int) -> bool:
    """For ``wait_for``: move what arrived into ``seen``; true once it holds ``count``."""
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        assert isinstance(message, AbstractIncomingMessage)
        seen.append(json.loads(message.body))
    return len(seen) >= count
