"""``Idempotency-Key``: a retried create has one effect and gets the first answer back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from shared.clock import ManualClock
from shared.http.idempotency import REPLAY_HEADER
from tests.support import testkit
from tests.support.problems import assert_problem
from tests.support.running import Running, api, wait_for
from tests.support.tokens import auth

KEY = "5f0c6c1e-6a43-4b8e-9a53-1f1c9e1fb0f1"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def service(clock: ManualClock) -> AsyncIterator[Running]:
    async with api(testkit.spec, clock=clock) as running_service:
        yield running_service


async def _note_count(db: asyncpg.Connection) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM testkit.notes")
    return count


def _keyed(key: str | bytes, sub: str = "hr-alice") -> list[tuple[bytes, bytes]]:
    # Raw bytes, so a test can send a key that is not ASCII.
    raw_key = key if isinstance(key, bytes) else key.encode()
    headers = [(name.encode(), value.encode()) for name, value in auth(sub=sub).items()]
    return [*headers, (b"idempotency-key", raw_key)]


async def test_same_key_and_body_replays_the_first_response(
    service: Running, db: asyncpg.Connection
) -> None:
    first = await service.client.post("/v1/notes", json={"text": "once"}, headers=_keyed(KEY))
    second = await service.client.post("/v1/notes", json={"text": "once"}, headers=_keyed(KEY))

    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["content-type"] == first.headers["content-type"]
    assert REPLAY_HEADER not in first.headers
    assert second.headers[REPLAY_HEADER] == "true"
    assert await _note_count(db) == 1
    outbox = await db.fetchval("SELECT count(*) FROM testkit.outbox")
    assert outbox == 1


async def test_same_key_with_another_body_is_refused(
    service: Running, db: asyncpg.Connection
) -> None:
    await service.client.post("/v1/notes", json={"text": "original"}, headers=_keyed(KEY))
    reused = await service.client.post("/v1/notes", json={"text": "changed"}, headers=_keyed(KEY))

    assert_problem(reused, 422, "idempotency-key-reused")
    assert await _note_count(db) == 1


async def test_same_key_from_two_principals_creates_two_resources(
    service: Running, db: asyncpg.Connection
) -> None:
    alice = await service.client.post(
        "/v1/notes", json={"text": "mine"}, headers=_keyed(KEY, "hr-alice")
    )
    bob = await service.client.post(
        "/v1/notes", json={"text": "mine"}, headers=_keyed(KEY, "hr-bob")
    )

    assert alice.status_code == bob.status_code == 201
    assert alice.json()["id"] != bob.json()["id"]
    assert REPLAY_HEADER not in bob.headers
    assert await _note_count(db) == 2


async def test_without_a_key_every_request_creates_a_resource(
    service: Running, db: asyncpg.Connection
) -> None:
    first = await service.client.post("/v1/notes", json={"text": "twice"}, headers=auth())
    second = await service.client.post("/v1/notes", json={"text": "twice"}, headers=auth())

    assert first.json()["id"] != second.json()["id"]
    assert await _note_count(db) == 2


@pytest.mark.parametrize(
    "key",
    ["k" * 256, "k" * 300, "clé".encode(), "with space", "tab\there", ""],
    ids=["256-chars", "300-chars", "non-ascii", "space", "tab", "empty"],
)
async def test_invalid_key_is_a_400(
    service: Running, db: asyncpg.Connection, key: str | bytes
) -> None:
    response = await service.client.post("/v1/notes", json={"text": "x"}, headers=_keyed(key))

    assert_problem(response, 400, "invalid-idempotency-key")
    assert await _note_count(db) == 0


async def test_longest_allowed_key_is_accepted(service: Running) -> None:
    response = await service.client.post("/v1/notes", json={"text": "x"}, headers=_keyed("k" * 255))

    assert response.status_code == 201


async def test_concurrent_requests_with_one_key_create_one_resource(
    service: Running, db: asyncpg.Connection
) -> None:
    async def blocked_requests() -> bool:
        # Activity statistics are snapshotted per transaction; this one stays open meanwhile.
        await db.execute("SELECT pg_stat_clear_snapshot()")
        count: int = await db.fetchval(
            """SELECT count(*) FROM pg_stat_activity
               WHERE datname = current_database() AND application_name = 'testkit'
                 AND wait_event_type = 'Lock'"""
        )
        return count == 2

    # Holding the notes table makes both requests overlap for certain: the first stops at
    # its insert while holding the key, the second queues behind the first's key.
    async with db.transaction():
        await db.execute("LOCK TABLE testkit.notes IN EXCLUSIVE MODE")
        racing = asyncio.gather(
            *(
                service.client.post("/v1/notes", json={"text": "race"}, headers=_keyed(KEY))
                for _ in range(2)
            )
        )
        await wait_for(blocked_requests, what="both requests blocked in the database")
    responses = await racing

    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert sorted(r.headers.get(REPLAY_HEADER, "") for r in responses) == ["", "true"]
    assert await _note_count(db) == 1


async def test_key_can_be_reused_once_it_has_expired(
    service: Running, clock: ManualClock, db: asyncpg.Connection
) -> None:
    retention = timedelta(hours=service.runtime.settings.idempotency_retention_hours)
    first = await service.client.post("/v1/notes", json={"text": "old"}, headers=_keyed(KEY))
    clock.advance(retention - timedelta(seconds=1))
    still_kept = await service.client.post("/v1/notes", json={"text": "new"}, headers=_keyed(KEY))
    clock.advance(timedelta(seconds=2))

    reused = await service.client.post("/v1/notes", json={"text": "new"}, headers=_keyed(KEY))
    replayed = await service.client.post("/v1/notes", json={"text": "new"}, headers=_keyed(KEY))

    assert_problem(still_kept, 422, "idempotency-key-reused")
    assert reused.status_code == 201
    assert REPLAY_HEADER not in reused.headers
    assert reused.json()["id"] != first.json()["id"]
    assert replayed.json()["id"] == reused.json()["id"]
    assert replayed.headers[REPLAY_HEADER] == "true"
    assert await _note_count(db) == 2


async def test_failed_request_does_not_use_up_the_key(
    service: Running, db: asyncpg.Connection
) -> None:
    invalid = await service.client.post("/v1/notes", json={"text": ""}, headers=_keyed(KEY))
    valid = await service.client.post("/v1/notes", json={"text": "fixed"}, headers=_keyed(KEY))

    assert invalid.status_code == 422
    assert valid.status_code == 201
    assert REPLAY_HEADER not in valid.headers
    assert await _note_count(db) == 1
