"""For the segments, search and campaigns tests: people arranged in the pool's tables with SQL
(a profile with its search tokens, tags, consent, its candidate and their applications), jobs,
and the callers of the access matrix."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from shared.clock import ManualClock
from shared.crypto import Keyring
from talentpool.app import spec as talentpool_spec
from talentpool.profiles.stages import rank
from talentpool.segments.text import index_tokens
from tests.support.running import Running, api
from tests.support.tokens import auth

POOL_SCOPE = "talentpool:search"
OWNER = "hr-alice"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

AS_ADMIN = auth("admin", "admin-zhao")
AS_POOL_HR = auth("hr", "hr-wang", scopes=(POOL_SCOPE,))
AS_OWNER = auth("hr", OWNER)
AS_OTHER_HR = auth("hr", "hr-bob")
AS_INTERVIEWER = auth("interviewer", "iv-li")


@asynccontextmanager
async def pool_api(clock: ManualClock | None = None) -> AsyncIterator[Running]:
    """The talent pool's HTTP side on a clock standing at ``T0`` (tags end, holds lapse)."""
    async with api(talentpool_spec, clock=clock or ManualClock(T0)) as service:
        yield service


def keyring() -> Keyring:
    """The keyring of the test run's settings: the one the service hashes queries with."""
    from talentpool.settings import TalentpoolSettings

    return Keyring.from_settings(TalentpoolSettings())


@dataclass(frozen=True)
class Person:
    profile_id: uuid.UUID = field(default_factory=uuid.uuid4)
    candidate_id: uuid.UUID = field(default_factory=uuid.uuid4)


async def a_job(
    db: asyncpg.Connection, *, owners: Sequence[str] = (OWNER,), status: str = "open"
) -> uuid.UUID:
    job_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO talentpool.jobs (id, title, job_type, status, owner_ids, changed_at)
           VALUES ($1, 'Data analyst', 'basic', $2, $3, $4)""",
        job_id,
        status,
        list(owners),
        T0,
    )
    return job_id


async def applied(
    db: asyncpg.Connection, person: Person, job_id: uuid.UUID, *, kind: str | None = None
) -> uuid.UUID:
    """The person's candidate applied to the job (and got as far as ``kind``)."""
    application_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO talentpool.applications (id, candidate_id, job_id, stage_kind,
           furthest_rank, furthest_stage_kind, applied_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $4, $6, $6)""",
        application_id,
        person.candidate_id,
        job_id,
        kind,
        rank(kind),
        T0,
    )
    return application_id


async def a_person(
    db: asyncpg.Connection,
    *,
    resume: str | None = None,
    notes: str | None = None,
    tags: Sequence[str] = (),
    tags_until: datetime | None = None,
    skills: Sequence[str] = (),
    location: str | None = None,
    engagement: int = 50,
    last_activity_at: datetime = T0,
    furthest: str | None = None,
    on_hold_until: datetime | None = None,
    unsubscribed_at: datetime | None = None,
    consent: bool | None = True,
    merged_into: uuid.UUID | None = None,
    anonymized: bool = False,
    index_key: Keyring | None = None,
) -> Person:
    """A profile as the ingestion leaves it, with one candidate; ``consent`` is the person's
    answer for re-engagement (None: never asked)."""
    person = Person()
    tokens = index_tokens(index_key or keyring(), resume, notes)
    await db.execute(
        """INSERT INTO talentpool.profiles (id, location, skills, search_tokens, furthest_rank,
           furthest_stage_kind, engagement_score, first_seen_at, last_activity_at,
           on_hold_until, unsubscribed_at, merged_into, anonymized_at, contacts_checked_at,
           created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $8, $8, $8)""",
        person.profile_id,
        location,
        list(skills),
        tokens,
        rank(furthest),
        furthest,
        engagement,
        T0 - timedelta(days=400),
        last_activity_at,
        on_hold_until,
        unsubscribed_at,
        merged_into,
        T0 if anonymized else None,
    )
    await db.execute(
        """INSERT INTO talentpool.profile_members (candidate_id, profile_id, home_profile_id,
           joined_at) VALUES ($1, $2, $2, $3)""",
        person.candidate_id,
        person.profile_id,
        T0 - timedelta(days=400),
    )
    for tag in tags:
        await db.execute(
            """INSERT INTO talentpool.profile_tags (profile_id, tag, source, until, added_at)
               VALUES ($1, $2, 'manual', $3, $4)""",
            person.profile_id,
            tag,
            tags_until,
            T0 - timedelta(days=1),
        )
    if consent is not None:
        await db.execute(
            """INSERT INTO talentpool.consents (profile_id, purpose, granted, source,
               recorded_at) VALUES ($1, 're_engagement', $2, 'candidate', $3)""",
            person.profile_id,
            consent,
            T0 - timedelta(days=30),
        )
    return person


async def preview(
    service: Running,
    filters: dict[str, Any],
    headers: dict[str, str] = AS_ADMIN,
    **params: str,
) -> httpx.Response:
    return await service.client.post(
        "/v1/segments/preview", json={"filters": filters}, params=params, headers=headers
    )


async def selected(
    service: Running, filters: dict[str, Any], headers: dict[str, str] = AS_ADMIN
) -> set[uuid.UUID]:
    """The profile ids the filters select (every page)."""
    response = await preview(service, filters, headers, limit="200")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    assert body["count"] == len(body["items"])
    return {uuid.UUID(item["profile_id"]) for item in body["items"]}


async def a_segment(
    service: Running,
    filters: dict[str, Any],
    headers: dict[str, str] = AS_POOL_HR,
    name: str = "Runners-up",
) -> dict[str, Any]:
    response = await service.client.post(
        "/v1/segments", json={"name": name, "filters": filters}, headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
