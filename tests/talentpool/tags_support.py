"""For the tags tests: people arranged in the pool's tables (a profile, its candidate, and for
HR without the talent-pool scope a job they own that the candidate applied to), the callers
of the access matrix, events as the other services publish them, and reading what the
service did."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from aio_pika.abc import AbstractRobustConnection
from prometheus_client import REGISTRY

from shared.events.envelope import CloudEvent, EventData
from tests.pipeline.stage_changed_events import deliver
from tests.support.running import Running, wait_for
from tests.support.tokens import auth

POOL_SCOPE = "talentpool:search"
OWNER = "hr-alice"

AS_ADMIN = auth("admin", "admin-zhao")
AS_POOL_HR = auth("hr", "hr-wang", scopes=(POOL_SCOPE,))
AS_OWNER = auth("hr", OWNER)
AS_OTHER_HR = auth("hr", "hr-bob")
AS_INTERVIEWER = auth("interviewer", "iv-li")
AS_SERVICE = auth("service", "pipeline", scopes=(POOL_SCOPE,))

BUILT_IN = {
    "no_show_on_invite_expired": uuid.UUID("0193b0a5-0000-7000-8000-000000000001"),
    "no_show_on_ai_interview_expired": uuid.UUID("0193b0a5-0000-7000-8000-000000000002"),
    "no_show_on_no_show_recorded": uuid.UUID("0193b0a5-0000-7000-8000-000000000003"),
    "runner_up": uuid.UUID("0193b0a5-0000-7000-8000-000000000004"),
    "runner_up_removed_on_hire": uuid.UUID("0193b0a5-0000-7000-8000-000000000005"),
}


@dataclass(frozen=True)
class Person:
    profile_id: uuid.UUID = field(default_factory=uuid.uuid4)
    candidate_id: uuid.UUID = field(default_factory=uuid.uuid4)
    job_id: uuid.UUID = field(default_factory=uuid.uuid4)
    application_id: uuid.UUID = field(default_factory=uuid.uuid4)


async def a_person(
    db: asyncpg.Connection,
    *,
    owner: str = OWNER,
    furthest_rank: int = 0,
    candidate_ids: int = 1,
) -> Person:
    """A profile with its candidate, who applied to a job ``owner`` owns."""
    person = Person()
    now = datetime.now(UTC)
    await db.execute(
        """INSERT INTO talentpool.profiles (id, first_seen_at, last_activity_at, created_at,
           updated_at) VALUES ($1, $2, $2, $2, $2)""",
        person.profile_id,
        now,
    )
    members = [person.candidate_id] + [uuid.uuid4() for _ in range(candidate_ids - 1)]
    for candidate_id in members:
        await db.execute(
            """INSERT INTO talentpool.profile_members (candidate_id, profile_id, home_profile_id,
               joined_at) VALUES ($1, $2, $2, $3)""",
            candidate_id,
            person.profile_id,
            now,
        )
    await db.execute(
        """INSERT INTO talentpool.jobs (id, title, job_type, status, owner_ids, changed_at)
           VALUES ($1, 'Backend engineer', 'full_time', 'open', $2, $3)""",
        person.job_id,
        [owner],
        now,
    )
    await db.execute(
        """INSERT INTO talentpool.applications (id, candidate_id, job_id, furthest_rank,
           updated_at) VALUES ($1, $2, $3, $4, $5)""",
        person.application_id,
        person.candidate_id,
        person.job_id,
        furthest_rank,
        now,
    )
    return person


def event(data: EventData, *, subject: uuid.UUID, at: datetime | None = None) -> CloudEvent:
    """``data`` in the envelope its producer's relay publishes."""
    return CloudEvent(
        id=uuid.uuid4(),
        source=f"/{data.producer}",
        type=data.event_type,
        time=at or datetime.now(UTC),
        subject=str(subject),
        data=data.model_dump(mode="json"),
    )


def consumed(event_type: str) -> float:
    """How many events of the type the talent pool has acknowledged in this process (handled
    or duplicate), counted after the handler's transaction committed."""
    return sum(
        REGISTRY.get_sample_value(
            "events_consumed_total",
            {"service": "talentpool", "type": event_type, "outcome": outcome},
        )
        or 0.0
        for outcome in ("handled", "duplicate")
    )


async def deliver_and_wait(amqp: AbstractRobustConnection, *events: CloudEvent) -> None:
    """Publish the events and wait until the talent pool has acknowledged every one."""
    before: dict[str, float] = {}
    for item in events:
        before.setdefault(item.type, consumed(item.type))
    for item in events:
        await deliver(amqp, item)
    expected = {
        kind: count + sum(1 for e in events if e.type == kind) for kind, count in before.items()
    }

    async def all_taken() -> bool:
        return all(consumed(kind) >= count for kind, count in expected.items())

    await wait_for(all_taken, what="the events to be acknowledged")


async def tags_of(service: Running, person: Person) -> dict[str, dict[str, Any]]:
    response = await service.client.get(f"/v1/profiles/{person.profile_id}/tags", headers=AS_ADMIN)
    assert response.status_code == 200, response.text
    return {item["tag"]: item for item in response.json()["items"]}


async def history_of(service: Running, person: Person, **params: str) -> list[dict[str, Any]]:
    response = await service.client.get(
        f"/v1/profiles/{person.profile_id}/tag-history",
        params={"limit": "200", **params},
        headers=AS_ADMIN,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def tagged(service: Running, person: Person, tag: str) -> dict[str, Any]:
    """Wait until the person has the tag; the tag."""

    async def found() -> dict[str, Any] | None:
        return (await tags_of(service, person)).get(tag)

    item: dict[str, Any] = await wait_for(found, what=f"the tag {tag}")
    return item


async def put_tag(
    service: Running,
    person: Person,
    tag: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] = AS_ADMIN,
) -> httpx.Response:
    return await service.client.put(
        f"/v1/profiles/{person.profile_id}/tags/{tag}", json=body or {}, headers=headers
    )
