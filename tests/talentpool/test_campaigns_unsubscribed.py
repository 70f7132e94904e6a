"""Unsubscribed people are left out of campaigns: the notifier's
``candidate_subscription_changed`` events set (and, when they subscribe again, clear) the
person's ``unsubscribed_at``; a late event changes nothing, unsubscribing from some kinds only
does not count, and a person with two candidates is unsubscribed while either one is."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import pytest
from aio_pika.abc import AbstractQueue, AbstractRobustConnection

from shared.clock import ManualClock
from shared.events.envelope import CloudEvent
from shared.events.talentpool import CandidateSubscriptionChangedV1
from tests.support.broker import tap
from tests.support.running import Running
from tests.talentpool.campaigns_support import (
    POOL_HR,
    REQUESTED,
    a_campaign,
    campaign,
    fire,
    pool_service,
    published,
)
from tests.talentpool.segments_support import T0, Person, a_job, a_person, a_segment
from tests.talentpool.tags_support import deliver_and_wait, event


@pytest.fixture
async def pool(amqp: AbstractRobustConnection) -> AsyncIterator[tuple[Running, AbstractQueue]]:
    async with tap(amqp, REQUESTED) as queue, pool_service(ManualClock(T0)) as service:
        yield service, queue


def _changed(
    candidate_id: uuid.UUID, at: datetime, *, everything: bool, kinds: tuple[str, ...] = ()
) -> CloudEvent:
    return event(
        CandidateSubscriptionChangedV1(
            candidate_id=candidate_id,
            unsubscribed_all=everything,
            unsubscribed_kinds=list(kinds),
            occurred_at=at,
        ),
        subject=candidate_id,
    )


async def _unsubscribed_at(db: asyncpg.Connection, person: Person) -> datetime | None:
    value: datetime | None = await db.fetchval(
        "SELECT unsubscribed_at FROM talentpool.profiles WHERE id = $1", person.profile_id
    )
    return value


async def test_unsubscribing_from_everything_keeps_a_person_out_of_campaigns(
    pool: tuple[Running, AbstractQueue], db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    service, queue = pool
    job = await a_job(db, owners=[POOL_HR])
    leaving = await a_person(db, tags=["re_invite"])
    staying = await a_person(db, tags=["re_invite"])
    at = T0 - timedelta(hours=1)

    await deliver_and_wait(amqp, _changed(leaving.candidate_id, at, everything=True))
    segment = await a_segment(service, {"tags_any": ["re_invite"]})
    created = await a_campaign(service, segment_id=segment["id"], job_id=job)
    await fire(service)

    assert await _unsubscribed_at(db, leaving) == at
    [invited] = await published(queue, 1)
    assert invited["data"]["profile_id"] == str(staying.profile_id)
    results = (await campaign(service, created["id"]))["results"]
    assert results["skipped"] == {"unsubscribed": 1}


async def test_subscribing_again_clears_it_and_a_late_event_changes_nothing(
    pool: tuple[Running, AbstractQueue], db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    person = await a_person(db)
    left, back = T0 - timedelta(days=2), T0 - timedelta(days=1)

    await deliver_and_wait(amqp, _changed(person.candidate_id, left, everything=True))
    after_leaving = await _unsubscribed_at(db, person)
    await deliver_and_wait(amqp, _changed(person.candidate_id, back, everything=False))
    after_coming_back = await _unsubscribed_at(db, person)
    # The unsubscription again, delivered late (it happened before they came back).
    await deliver_and_wait(amqp, _changed(person.candidate_id, left, everything=True))

    assert after_leaving == left
    assert after_coming_back is None
    assert await _unsubscribed_at(db, person) is None


async def test_unsubscribing_from_some_kinds_only_is_not_unsubscribing(
    pool: tuple[Running, AbstractQueue], db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    person = await a_person(db)

    await deliver_and_wait(
        amqp,
        _changed(person.candidate_id, T0, everything=False, kinds=("interview_reminder",)),
    )

    assert await _unsubscribed_at(db, person) is None


async def test_a_person_is_unsubscribed_while_any_of_their_candidates_is(
    pool: tuple[Running, AbstractQueue], db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    person = await a_person(db)
    other_candidate = uuid.uuid4()
    await db.execute(
        """INSERT INTO talentpool.profile_members (candidate_id, profile_id, home_profile_id,
           joined_at) VALUES ($1, $2, $2, $3)""",
        other_candidate,
        person.profile_id,
        T0,
    )
    first, second = T0 - timedelta(days=3), T0 - timedelta(days=2)

    # Both in one delivery burst: the consumer may take them in one batch.
    await deliver_and_wait(
        amqp,
        _changed(person.candidate_id, first, everything=True),
        _changed(other_candidate, second, everything=True),
    )
    both = await _unsubscribed_at(db, person)
    await deliver_and_wait(
        amqp, _changed(person.candidate_id, T0 - timedelta(days=1), everything=False)
    )
    one = await _unsubscribed_at(db, person)
    await deliver_and_wait(amqp, _changed(other_candidate, T0, everything=False))

    assert both == first
    assert one == second
    assert await _unsubscribed_at(db, person) is None


async def test_an_unknown_candidates_change_is_kept_and_changes_no_one(
    pool: tuple[Running, AbstractQueue], db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    someone = await a_person(db)
    stranger = uuid.uuid4()

    await deliver_and_wait(amqp, _changed(stranger, T0, everything=True))

    kept = await db.fetchrow(
        "SELECT unsubscribed_all, changed_at FROM talentpool.candidate_subscriptions"
        " WHERE candidate_id = $1",
        stranger,
    )
    assert kept is not None and tuple(kept) == (True, T0)
    assert await _unsubscribed_at(db, someone) is None
