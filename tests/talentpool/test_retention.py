"""Retention with a controlled clock: a sweep, armed by the first application and rescheduling
itself, erases (reason ``retention``) people whose applications all ended long enough ago and
who hold no talent-pool consent in force, and anyone inactive for too long."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from shared.clock import ManualClock
from talentpool.app import spec as talentpool_spec
from talentpool.erasure.retention import SWEEP
from tests.support.running import Running, running, wait_for
from tests.talentpool.erasure_support import ADMIN, Person, in_pool, profile

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
INTERVAL = timedelta(hours=1)
# The defaults: 180 days after the applications ended, 730 days after the last activity.
AFTER_REJECTION = timedelta(days=180)
AFTER_ACTIVITY = timedelta(days=730)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def pool(clock: ManualClock) -> AsyncIterator[Running]:
    """The talent pool consuming from its queue; its timers fire only when the test drains
    them."""
    async with running(
        talentpool_spec,
        clock=clock,
        run_workers=False,
        timer_poll_interval_s=3600,
        retention_sweep_interval_s=INTERVAL.total_seconds(),
    ) as service:
        yield service


async def _status_is(db: asyncpg.Connection, person: Person, status: str) -> None:
    async def recorded() -> bool:
        found = await db.fetchval(
            "SELECT status FROM talentpool.applications WHERE id = $1", person.application_id
        )
        return bool(found == status)

    await wait_for(recorded, what=f"the application {status} in the pool")


async def _arrive(
    pool: Running, db: asyncpg.Connection, amqp: AbstractRobustConnection, *, ended: str | None
) -> Person:
    person = Person()
    await person.applies(amqp, at=START)
    await in_pool(pool, person)
    if ended is not None:
        await person.ends(amqp, at=START, status=ended, reason="Not this time")
        await _status_is(db, person, ended)
    return person


async def _sweep_at(pool: Running, clock: ManualClock, moment: datetime) -> None:
    clock.set(moment)
    await pool.runtime.drain_timers()


async def _retention_requests(pool: Running) -> list[dict[str, Any]]:
    listed = await pool.client.get(
        "/v1/erasure-requests", params={"reason": "retention"}, headers=ADMIN
    )
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


@pytest.mark.parametrize("ended", ["rejected", "withdrawn"])
async def test_someone_whose_applications_ended_is_erased_once_the_period_has_passed(
    pool: Running,
    clock: ManualClock,
    db: asyncpg.Connection,
    amqp: AbstractRobustConnection,
    ended: str,
) -> None:
    person = await _arrive(pool, db, amqp, ended=ended)

    await _sweep_at(pool, clock, START + AFTER_REJECTION - timedelta(days=1))
    assert await _retention_requests(pool) == []
    await _sweep_at(pool, clock, START + AFTER_REJECTION + timedelta(days=1))

    [request] = await _retention_requests(pool)
    assert (request["profile_id"], request["requested_by"]) == (
        str(person.profile_id),
        "retention",
    )
    assert request["candidate_ids"] == [str(person.candidate_id)]
    assert (await profile(pool, person.profile_id))["anonymized_at"] is not None
    rows = await db.fetch(
        "SELECT payload FROM talentpool.outbox WHERE event_type = 'talentpool.erasure_requested.v1'"
    )
    assert [json.loads(r["payload"])["data"]["reason"] for r in rows] == ["retention"]


async def test_a_talent_pool_consent_in_force_keeps_them_until_it_expires(
    pool: Running, clock: ManualClock, db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    person = await _arrive(pool, db, amqp, ended="rejected")
    expires = START + timedelta(days=300)
    consent = await pool.client.put(
        f"/v1/profiles/{person.profile_id}/consents/talent_pool",
        json={"granted": True, "source": "email", "expires_at": expires.isoformat()},
        headers=ADMIN,
    )
    assert consent.status_code == 201, consent.text

    await _sweep_at(pool, clock, START + AFTER_REJECTION + timedelta(days=1))
    assert await _retention_requests(pool) == []
    await _sweep_at(pool, clock, expires + timedelta(hours=2))

    [request] = await _retention_requests(pool)
    assert request["profile_id"] == str(person.profile_id)


async def test_a_consent_only_for_re_engagement_does_not_keep_them(
    pool: Running, clock: ManualClock, db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    person = await _arrive(pool, db, amqp, ended="rejected")
    consent = await pool.client.put(
        f"/v1/profiles/{person.profile_id}/consents/re_engagement",
        json={"granted": True, "source": "email"},
        headers=ADMIN,
    )
    assert consent.status_code == 201, consent.text

    await _sweep_at(pool, clock, START + AFTER_REJECTION + timedelta(days=1))

    [request] = await _retention_requests(pool)
    assert request["profile_id"] == str(person.profile_id)


async def test_an_open_application_keeps_them_until_they_have_been_inactive_too_long(
    pool: Running, clock: ManualClock, db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    person = await _arrive(pool, db, amqp, ended=None)
    kept_by_consent = await _arrive(pool, db, amqp, ended="rejected")
    await pool.client.put(
        f"/v1/profiles/{kept_by_consent.profile_id}/consents/talent_pool",
        json={"granted": True, "source": "portal"},
        headers=ADMIN,
    )

    await _sweep_at(pool, clock, START + AFTER_REJECTION + timedelta(days=1))
    assert await _retention_requests(pool) == []
    await _sweep_at(pool, clock, START + AFTER_ACTIVITY + timedelta(days=1))

    # Inactivity ends anyone's stay, consent or not.
    erased = {request["profile_id"] for request in await _retention_requests(pool)}
    assert erased == {str(person.profile_id), str(kept_by_consent.profile_id)}


async def test_the_first_application_arms_one_sweep_that_reschedules_itself(
    pool: Running, clock: ManualClock, db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    await _arrive(pool, db, amqp, ended=None)
    await _arrive(pool, db, amqp, ended=None)

    [armed] = await _pending_sweeps(db)
    assert armed["due_at"] == START + INTERVAL
    await _sweep_at(pool, clock, START + 3 * INTERVAL)
    [next_one] = await _pending_sweeps(db)
    assert next_one["due_at"] == START + 4 * INTERVAL
    assert next_one["key"] != armed["key"]
    await _sweep_at(pool, clock, START + 5 * INTERVAL)
    [third] = await _pending_sweeps(db)
    assert (third["key"], third["due_at"]) == (armed["key"], START + 6 * INTERVAL)
    fired = await db.fetchval(
        "SELECT count(*) FROM talentpool.timers WHERE kind = $1 AND state = 'done'", SWEEP
    )
    assert fired == 1  # the row of the first key was armed again for the third sweep


async def _pending_sweeps(db: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        "SELECT key, due_at FROM talentpool.timers WHERE kind = $1 AND state = 'pending'", SWEEP
    )
    return rows


async def test_nobody_is_erased_twice_by_retention(
    pool: Running, clock: ManualClock, db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    person = await _arrive(pool, db, amqp, ended="rejected")
    await _sweep_at(pool, clock, START + AFTER_REJECTION + timedelta(days=1))

    await _sweep_at(pool, clock, START + AFTER_ACTIVITY + timedelta(days=1))

    [request] = await _retention_requests(pool)
    assert request["profile_id"] == str(person.profile_id)
    assert uuid.UUID(request["id"])
